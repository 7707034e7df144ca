#!/usr/bin/env rdt
// capable.d: capability checks (cap_capable), by process and capability number.
// Usage: rdt examples/capable.d              (Ctrl-C to stop)
//        rdt -c 'hostname box' examples/capable.d
// cap_capable(cred, ns, cap, opts): arg2 is the capability (12 NET_ADMIN, 21 SYS_ADMIN, …, see
// capabilities(7)). Needs kprobes.

kprobe:cap_capable
{
  printf("%-7d %-16s cap %d\n", pid, comm, arg2);
  @checks[comm, arg2] = count();
}
