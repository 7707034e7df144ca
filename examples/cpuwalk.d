#!/usr/bin/env rdt
// cpuwalk.d: which CPUs run the traced work, sampled 99 times a second on every CPU.
// Usage: rdt examples/cpuwalk.d              (every process; Ctrl-C to stop)
//        rdt -c 'make -j4' examples/cpuwalk.d (only that command: profile follows -c/-p)
// An uneven spread means work is pinned or a CPU is busy with something else.
// (bpftrace's cpuwalk.bt keys a linear histogram by cpu; this counts samples per CPU.)

profile:hz:99
/pid != 0/
{
  @cpu[cpu] = count();
}
