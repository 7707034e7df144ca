#!/usr/bin/env rdt
// tcpconnect.d: active TCP connections (connect()), with the process that made them.
// Usage: rdt examples/tcpconnect.d           (Ctrl-C to stop)
// A connect() moves its socket to SYN_SENT (state 2) in the caller's context, so pid and comm
// are the connecting process. Uses the stable sock:inet_sock_set_state tracepoint (no kprobes
// needed); family 2 is IPv4, 10 IPv6.

tracepoint:sock:inet_sock_set_state
/args.protocol == 6 && args.newstate == 2/
{
  printf("%-7d %-16s family %-2d port %d\n", pid, comm, args.family, args.dport);
  @connects[comm, args.dport] = count();
}
