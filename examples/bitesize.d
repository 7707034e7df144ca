#!/usr/bin/env rdt
// bitesize.d: the size of block I/O requests, per program, as log2 histograms in bytes.
// Usage: rdt examples/bitesize.d           (Ctrl-C to print the histograms)
//        rdt -c 'tar cf x.tar /usr' examples/bitesize.d
// Many tiny requests where large ones are expected point at an I/O pattern to fix.

tracepoint:block:block_rq_issue
{
  @bytes[execname] = quantize(args.bytes);
}
