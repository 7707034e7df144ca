#!/usr/bin/env rdt
/*
 * execsnoop.d: trace new programs as they are executed (execve), with their arguments.
 * Catches short-lived processes that top and ps never show: cron jobs, shell loops, build
 * steps, something forking `sh -c` thousands of times.
 *
 * Usage: rdt examples/execsnoop.d
 *
 * Example output:
 *   TIME(ms)   PID    PPID   COMM             ARGS
 *   1204       8811   8790   bash             /usr/bin/ls --color=auto -l
 *   1530       8812   8811   sh               /bin/true
 */
#pragma D option quiet

BEGIN
{
	printf("%-10s %-6s %-6s %-16s %s\n", "TIME(ms)", "PID", "PPID", "COMM", "ARGS");
}

syscall::execve:entry
{
	printf("%-10d %-6d %-6d %-16s ", elapsed / 1000000, pid, ppid, execname);
	join(args->argv);
}
