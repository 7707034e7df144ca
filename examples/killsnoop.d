#!/usr/bin/env rdt
/*
 * killsnoop.d: trace signals sent with kill(2): who sent which signal to whom, and whether
 * it was delivered (RESULT 0) or failed (-3 = -ESRCH: no such process, -1 = -EPERM).
 * Answers "who killed my process?".
 *
 * Usage: rdt examples/killsnoop.d
 *
 * Example output:
 *   PID    COMM              SIG TPID     RESULT
 *   3120   bash               15 2977     0
 *   3121   sh                  0 99999    -3
 */
#pragma D option quiet

BEGIN
{
	printf("%-6s %-16s %4s %-8s %s\n", "PID", "COMM", "SIG", "TPID", "RESULT");
}

syscall::kill:entry
{
	self->tpid = args->pid;
	self->sig = args->sig;
	self->in_kill = 1;
}

syscall::kill:return
/self->in_kill/
{
	printf("%-6d %-16s %4d %-8d %d\n", pid, execname, self->sig, self->tpid, args->ret);
	self->in_kill = 0;
	self->sig = 0;
	self->tpid = 0;
}
