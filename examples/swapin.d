#!/usr/bin/env rdt
// swapin.d: pages read back in from swap, by process: who is paying for memory pressure.
// Usage: rdt examples/swapin.d               (Ctrl-C to stop)
// swap_readpage() runs in the faulting process's context. Needs kprobes (and swap in use).

kprobe:swap_readpage
{
  @swapins[comm, pid] = count();
}
