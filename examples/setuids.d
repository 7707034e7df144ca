#!/usr/bin/env rdt
/*
 * setuids.d: trace privilege changes: setuid, setgid, setresuid, setresgid, setreuid,
 * setregid, setfsuid, setfsgid calls, with their arguments and results. Shows su, sudo,
 * setpriv, daemons dropping root, and anything that tries and fails (RET -1 = -EPERM).
 *
 * Usage: rdt examples/setuids.d
 *
 * Example output:
 *   PID    COMM              UID SYSCALL      ARGS                 RET
 *   7120   setpriv             0 setresgid    0 0 0                0
 *   7120   setpriv             0 setresuid    0 0 0                0
 */
#pragma D option quiet

BEGIN
{
	printf("%-6s %-16s %4s %-12s %-20s %s\n", "PID", "COMM", "UID", "SYSCALL", "ARGS", "RET");
}

syscall::setuid:entry, syscall::setfsuid:entry
{
	self->a0 = args->uid; self->a1 = -1; self->a2 = -1;
	self->call = probefunc; self->active = 1;
}

syscall::setgid:entry, syscall::setfsgid:entry
{
	self->a0 = args->gid; self->a1 = -1; self->a2 = -1;
	self->call = probefunc; self->active = 1;
}

syscall::setresuid:entry
{
	self->a0 = args->ruid; self->a1 = args->euid; self->a2 = args->suid;
	self->call = probefunc; self->active = 1;
}

syscall::setresgid:entry
{
	self->a0 = args->rgid; self->a1 = args->egid; self->a2 = args->sgid;
	self->call = probefunc; self->active = 1;
}

syscall::setreuid:entry
{
	self->a0 = args->ruid; self->a1 = args->euid; self->a2 = -1;
	self->call = probefunc; self->active = 1;
}

syscall::setregid:entry
{
	self->a0 = args->rgid; self->a1 = args->egid; self->a2 = -1;
	self->call = probefunc; self->active = 1;
}

syscall::set*id:return
/self->active/
{
	printf("%-6d %-16s %4d %-12s %-6d %-6d %-6d %d\n", pid, execname, uid, self->call,
	    (int32)self->a0, (int32)self->a1, (int32)self->a2, args->ret);
	self->active = 0;
}
