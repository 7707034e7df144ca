#!/usr/bin/env rdt
/*
 * syncsnoop.d: trace the calls that force data to disk: sync, syncfs, fsync, fdatasync,
 * sync_file_range, msync. A process syncing in a loop explains I/O latency spikes and slow
 * databases.
 *
 * Usage: rdt examples/syncsnoop.d
 *
 * Example output:
 *   TIME(ms)   PID    COMM             CALL
 *   5120       9120   sync             sync
 *   8841       1022   postgres         fdatasync
 */
#pragma D option quiet

BEGIN
{
	printf("%-10s %-6s %-16s %s\n", "TIME(ms)", "PID", "COMM", "CALL");
}

syscall::sync:entry, syscall::syncfs:entry, syscall::fsync:entry, syscall::fdatasync:entry,
syscall::sync_file_range:entry, syscall::msync:entry
{
	printf("%-10d %-6d %-16s %s\n", elapsed / 1000000, pid, execname, probefunc);
}
