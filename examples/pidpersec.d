#!/usr/bin/env rdt
/*
 * pidpersec.d: new processes per second (forks), printed every second. A fork storm (a
 * crash-looping service, a runaway script) shows up here before it shows up anywhere else.
 *
 * Usage: rdt examples/pidpersec.d
 *
 * Example output:
 *   Tracing new processes... Hit Ctrl-C to end.
 *   1s: 3 new processes
 *   2s: 152 new processes
 */
#pragma D option quiet

BEGIN
{
	printf("Tracing new processes... Hit Ctrl-C to end.\n");
}

tracepoint:sched:sched_process_fork
{
	@forks = count();
}

tick-1s
{
	this->now = @forks;
	printf("%ds: %d new processes\n", elapsed / 1000000000, this->now - @last);
	@last = this->now;
}
