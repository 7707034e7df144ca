kprobe:vfs_read {
    @x = (uint33)arg0;
}
