#!/usr/bin/env rdt
/*
 * statsnoop.d: trace stat() calls (statx, newfstatat, stat, lstat) and their results.
 * Shows what a program probes for on the filesystem: search paths, config lookups, and the
 * failures (ERR 2 = ENOENT) that often explain slow startups.
 *
 * Usage: rdt examples/statsnoop.d
 *
 * Example output:
 *   PID    COMM             ERR SYSCALL      PATH
 *   4410   stat               0 statx        /etc/hostname
 *   4411   ls                 2 statx        /missing
 */
#pragma D option quiet

BEGIN
{
	printf("%-6s %-16s %3s %-12s %s\n", "PID", "COMM", "ERR", "SYSCALL", "PATH");
}

syscall::statx:entry, syscall::newfstatat:entry, syscall::newstat:entry, syscall::newlstat:entry
{
	self->path = str(args->filename);
	self->call = probefunc;
	self->in_stat = 1;
}

syscall::statx:return, syscall::newfstatat:return, syscall::newstat:return, syscall::newlstat:return
/self->in_stat/
{
	printf("%-6d %-16s %3d %-12s %s\n", pid, execname, args->ret < 0 ? -args->ret : 0, self->call, self->path);
	self->in_stat = 0;
}
