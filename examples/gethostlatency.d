#!/usr/bin/env rdt
// gethostlatency.d: host name lookups through libc (getaddrinfo, gethostbyname,
// gethostbyname2) by any process, with how long each took.
// Usage: rdt examples/gethostlatency.d                          (Ctrl-C to stop)
//        rdt -c 'getent ahosts localhost' examples/gethostlatency.d
// After bpftrace's tools/gethostlatency.bt (without its timestamp column). @start and @host keep
// one zeroed entry per thread that made a lookup; they are printed at exit.

BEGIN
{
  printf("Tracing getaddrinfo/gethostbyname calls... Hit Ctrl-C to end.\n");
  printf("%-6s %-16s %6s %s\n", "PID", "COMM", "LATms", "HOST");
}

uprobe:libc:getaddrinfo,
uprobe:libc:gethostbyname,
uprobe:libc:gethostbyname2
{
  @start[tid] = nsecs;
  @host[tid] = arg0;
}

uretprobe:libc:getaddrinfo,
uretprobe:libc:gethostbyname,
uretprobe:libc:gethostbyname2
/@start[tid] != 0/
{
  printf("%-6d %-16s %6d %s\n", pid, comm, (nsecs - @start[tid]) / 1000000, str(@host[tid]));
  @start[tid] = 0;
  @host[tid] = 0;
}
