//! Detaching. Closing a kprobe or perf-event tracepoint waits for an RCU grace period inside
//! the kernel (75–100 ms each), so a wildcard's links closed one after another cost seconds
//! (73 `vfs_*` kprobes: 7 s in the VM lane). Closed from several threads, the waits overlap.

use super::Link;

/// Threads that close links at once; they mostly sleep in the kernel.
const CLOSERS: usize = 16;

/// Detaches every link, several at a time.
pub fn detach_all(mut links: Vec<Link>) {
    if links.len() < 2 {
        return;
    }
    let per_thread = links.len().div_ceil(CLOSERS);
    let mut chunks = Vec::new();
    while !links.is_empty() {
        let rest = links.split_off(per_thread.min(links.len()));
        chunks.push(std::mem::replace(&mut links, rest));
    }
    std::thread::scope(|scope| {
        for chunk in chunks {
            // Should the thread not start, the closure is dropped here, closing its links.
            let _ = std::thread::Builder::new().spawn_scoped(scope, move || drop(chunk));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn every_link_is_closed() {
        for n in [0, 1, 2, 17, 100] {
            let closed = Arc::new(AtomicUsize::new(0));
            let links: Vec<Link> = (0..n)
                .map(|_| Box::new(Counted(closed.clone())) as Link)
                .collect();
            detach_all(links);
            assert_eq!(closed.load(Ordering::SeqCst), n);
        }
    }
}
