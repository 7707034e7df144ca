tracepoint:syscalls:sys_enter_openat /pid == 1/
