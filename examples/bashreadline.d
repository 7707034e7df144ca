#!/usr/bin/env rdt
// bashreadline.d: the command lines typed into interactive bash shells, system-wide.
// A uretprobe on bash's readline() sees each line as readline returns it to bash.
// Usage: rdt examples/bashreadline.d                  (Ctrl-C to stop)
//        rdt -c 'bash -i' examples/bashreadline.d     (one shell)
// After bpftrace's tools/bashreadline.bt (without its timestamp column).

BEGIN
{
  printf("Tracing bash commands... Hit Ctrl-C to end.\n");
  printf("%-6s %s\n", "PID", "COMMAND");
}

uretprobe:/bin/bash:readline
/retval != 0/
{
  printf("%-6d %s\n", pid, str(retval));
}
