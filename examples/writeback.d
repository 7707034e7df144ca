#!/usr/bin/env rdt
/*
 * writeback.d: trace page-cache writeback: when the kernel flushes dirty pages to a device,
 * why (periodic, background, sync, memory pressure), how many pages and how long it took.
 * Correlates latency spikes with flushes.
 *
 * Usage: rdt examples/writeback.d
 *
 * Example output:
 *   TIME(ms)   DEVICE   PAGES    REASON           MS
 *   1302       254:0    2048     sync             4.182
 *   6110       254:0    12       periodic         0.311
 */
#pragma D option quiet

BEGIN
{
	printf("%-10s %-8s %-8s %-16s %s\n", "TIME(ms)", "DEVICE", "PAGES", "REASON", "MS");
}

/* A flusher thread emits both events of one writeback pass: a thread-local pairs them. */
tracepoint:writeback:writeback_start
{
	self->start = nsecs;
}

tracepoint:writeback:writeback_written
/self->start/
{
	this->ns = nsecs - self->start;
	this->r = args->reason;
	this->why = this->r == 0 ? "background" :
	    this->r == 1 ? "vmscan" :
	    this->r == 2 ? "sync" :
	    this->r == 3 ? "periodic" :
	    this->r == 4 ? "laptop_timer" :
	    this->r == 5 ? "fs_free_space" :
	    this->r == 6 ? "forker_thread" : "foreign_flush";
	printf("%-10d %-8s %-8d %-16s %d.%03d\n", elapsed / 1000000, args->name, args->nr_pages,
	    this->why, this->ns / 1000000, (this->ns / 1000) % 1000);
	self->start = 0;
}
