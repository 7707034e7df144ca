#!/usr/bin/env rdt
// runqlat.d: run queue latency, the time a thread waits on a CPU's run queue between being
// woken (or preempted) and running, as a log2 histogram in microseconds.
// Usage: rdt examples/runqlat.d              (Ctrl-C to print the histogram)
//        rdt -c 'make -j2' examples/runqlat.d (while one command runs)
// Long tails point at CPU saturation: more runnable threads than CPUs.

tracepoint:sched:sched_wakeup,
tracepoint:sched:sched_wakeup_new
{
  @qtime[args.pid] = timestamp;
}

// A thread preempted while still runnable (prev_state 0, TASK_RUNNING) queues again at once.
tracepoint:sched:sched_switch
/args.prev_state == 0/
{
  @qtime[args.prev_pid] = timestamp;
}

tracepoint:sched:sched_switch
/@qtime[args.next_pid]/
{
  @usecs = quantize((timestamp - @qtime[args.next_pid]) / 1000);
  delete(@qtime[args.next_pid]);
}

END
{
  clear(@qtime);
}
