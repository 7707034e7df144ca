kprobe:vfs_read /pid = 42/ {
    @[comm] = count();
}
