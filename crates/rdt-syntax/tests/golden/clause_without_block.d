kprobe:vfs_read
kprobe:vfs_write {
    @[comm] = count();
}
