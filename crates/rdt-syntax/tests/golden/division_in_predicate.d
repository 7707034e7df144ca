kprobe:vfs_read /arg2 / 1024 > 4/ {
    @big[comm] = count();
}
