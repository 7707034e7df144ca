#!/usr/bin/env rdt
/*
 * syscount.d: count system calls, by syscall number and by process name.
 * The classic first look at a busy box: who is making syscalls, and which ones.
 *
 * Usage: rdt examples/syscount.d              (Ctrl-C to print the counts)
 *        rdt -c 'make' examples/syscount.d    (stop when the command exits)
 *
 * Example output:
 *   Counting syscalls... Hit Ctrl-C to end.
 *   ^C
 *
 *   @process[sshd]: 112
 *   @process[bash]: 2042
 *   @syscall[1]: 1890        (syscall numbers: `ausyscall --dump`, or /usr/include/asm/unistd_64.h)
 *   @syscall[0]: 2210
 */
#pragma D option quiet

BEGIN
{
	printf("Counting syscalls... Hit Ctrl-C to end.\n");
}

tracepoint:raw_syscalls:sys_enter
{
	@syscall[args->id] = count();
	@process[execname] = count();
}
