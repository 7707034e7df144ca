#!/usr/bin/env rdt
// threadsnoop.d: new threads, as pthread_create() is called in any process.
// Prints milliseconds since rdt started, the creating process, and the address of the
// function the thread starts in (pthread_create's third argument).
// Usage: rdt examples/threadsnoop.d                 (Ctrl-C to stop)
//        rdt -c 'CMD' examples/threadsnoop.d        (one command)
// After bpftrace's tools/threadsnoop.bt (which names the function with usym()). Since glibc 2.34
// pthread_create lives in libc itself.

BEGIN
{
  printf("%-10s %-6s %-16s %s\n", "TIME(ms)", "PID", "COMM", "FUNC");
}

uprobe:libc:pthread_create
{
  printf("%-10u %-6d %-16s 0x%x\n", elapsed / 1000000, pid, comm, arg2);
}
