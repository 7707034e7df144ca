#!/usr/bin/env rdt
/*
 * opensnoop.d: trace open() calls system wide, with the result of each: the file descriptor,
 * or the errno of a failure (2 = ENOENT, 13 = EACCES). Finds missing config files, files
 * opened in a hot loop, and which process touches a path.
 *
 * Usage: rdt examples/opensnoop.d
 *
 * Example output:
 *   PID    COMM               FD ERR PATH
 *   2114   cat                 3   0 /etc/ld.so.cache
 *   2114   cat                -1   2 /nonexistent
 */
#pragma D option quiet

BEGIN
{
	printf("%-6s %-16s %4s %3s %s\n", "PID", "COMM", "FD", "ERR", "PATH");
}

syscall::openat:entry
{
	self->path = str(args->filename);
	self->opening = 1;
}

syscall::openat:return
/self->opening/
{
	this->fd = args->ret >= 0 ? args->ret : -1;
	this->err = args->ret >= 0 ? 0 : -args->ret;
	printf("%-6d %-16s %4d %3d %s\n", pid, execname, this->fd, this->err, self->path);
	self->opening = 0;
}
