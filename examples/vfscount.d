#!/usr/bin/env rdt
// vfscount.d: calls into the VFS layer, per kernel function (every function named vfs_*), like
// bpftrace's vfscount.bt.
// Usage: rdt examples/vfscount.d             (Ctrl-C to stop)
//        rdt -c 'tar xf x.tar' examples/vfscount.d
// One program is attached to every vfs_* function (a kprobe wildcard): `func` is read when the
// probe fires (bpf_get_func_ip) and printed as the function's name. Needs kprobes.

BEGIN
{
  printf("Tracing VFS calls... Hit Ctrl-C to end.\n");
}

kprobe:vfs_*
{
  @[func] = count();
}
