#!/usr/bin/env rdt
// opens.d: which programs open files, and which files fail to open.
// Usage: rdt examples/opens.d            (Ctrl-C to stop)
//        rdt -c 'make' examples/opens.d  (trace one command)

tracepoint:syscalls:sys_enter_openat
{
  @opens[comm] = count();
}

tracepoint:syscalls:sys_exit_openat
/args.ret < 0/
{
  @failed[comm, args.ret] = count();
}
