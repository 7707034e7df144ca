kprobe:do_sys_open {
    @opens[comm] = count()
    @bytes = sum(arg2);
}
