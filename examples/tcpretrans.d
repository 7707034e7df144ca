#!/usr/bin/env rdt
// tcpretrans.d: TCP retransmissions, with the ports and the socket state they happened in.
// Usage: rdt examples/tcpretrans.d           (Ctrl-C to stop)
// Retransmits run from timers and softirqs, so pid/comm are whoever was on the CPU: the ports
// identify the connection. Uses the tcp:tcp_retransmit_skb tracepoint (no kprobes needed);
// state 1 is ESTABLISHED, 2 SYN_SENT.

tracepoint:tcp:tcp_retransmit_skb
{
  printf("retransmit %d -> %d state %d\n", args.sport, args.dport, args.state);
  @retransmits[args.dport] = count();
}
