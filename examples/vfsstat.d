#!/usr/bin/env rdt
// vfsstat.d: counts of the main VFS operations: reads, writes, opens, creates, fsyncs.
// Usage: rdt examples/vfsstat.d              (Ctrl-C to stop)
//        rdt -c 'git status' examples/vfsstat.d
// Needs kprobes (kretprobes not used: each call counts once, on entry).

kprobe:vfs_read*   { @ops["read"] = count(); }
kprobe:vfs_write*  { @ops["write"] = count(); }
kprobe:vfs_open    { @ops["open"] = count(); }
kprobe:vfs_create  { @ops["create"] = count(); }
kprobe:vfs_fsync   { @ops["fsync"] = count(); }
