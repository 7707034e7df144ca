#!/usr/bin/env rdt
// vfscount.d: calls into the VFS layer (every kernel function named vfs_*), per process.
// Usage: rdt examples/vfscount.d             (Ctrl-C to stop)
//        rdt -c 'tar xf x.tar' examples/vfscount.d
// One program is attached to every vfs_* function (a kprobe wildcard); needs kprobes.

kprobe:vfs_*
{
  @calls[comm] = count();
}
