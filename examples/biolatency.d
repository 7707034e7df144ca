#!/usr/bin/env rdt
// biolatency.d: block I/O latency, from the request's issue to the device until its
// completion, as a log2 histogram in microseconds.
// Usage: rdt examples/biolatency.d                 (Ctrl-C to print the histogram)
//        rdt -c 'fio job.fio' examples/biolatency.d (while one command runs)
// Two modes (a cache and a disk) or a long tail show up at a glance.

tracepoint:block:block_rq_issue
{
  @start[args.dev, args.sector] = timestamp;
}

tracepoint:block:block_rq_complete
/@start[args.dev, args.sector]/
{
  @usecs = quantize((timestamp - @start[args.dev, args.sector]) / 1000);
  delete(@start[args.dev, args.sector]);
}

END
{
  clear(@start);
}
