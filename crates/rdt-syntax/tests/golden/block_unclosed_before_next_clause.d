kprobe:vfs_read {
    @reads[comm] = count();

kprobe:vfs_write {
    @writes[comm] = count();
}
