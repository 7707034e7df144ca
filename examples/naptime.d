#!/usr/bin/env rdt
// naptime.d: who sleeps, and for how long: every nanosleep with its time of day, then the
// sleep durations per program as linear histograms in milliseconds.
// Usage: rdt examples/naptime.d              (Ctrl-C to print the histograms)
//        rdt -c 'sleep 0.2' examples/naptime.d
// Programs that poll with short sleeps show up as a tall bar at the left.

syscall::clock_nanosleep:entry,
syscall::nanosleep:entry
{
  @start[tid] = timestamp;
}

syscall::clock_nanosleep:return,
syscall::nanosleep:return
/@start[tid]/
{
  $ms = (timestamp - @start[tid]) / 1000000;
  time("%H:%M:%S ");
  printf("%-6d %-16s %d ms\n", pid, execname, $ms);
  @ms[execname] = lquantize($ms, 0, 1000, 50);
  delete(@start[tid]);
}

END
{
  clear(@start);
}
