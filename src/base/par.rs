//! Independent work spread over the machine's cores, results in input order. A render's
//! per-environment templates and its per-file self-check depend on nothing but their input, so
//! they can run side by side; the output must not depend on how many cores did the work, so
//! every result comes back in the order of the items, and the first error in that order is
//! the one reported.

use std::cell::Cell;
use std::num::NonZeroUsize;
use std::sync::OnceLock;

thread_local! {
    static SERIAL: Cell<bool> = const { Cell::new(false) };
}

/// `f(item)` for every item, in order, on up to `threads()` threads, each taking at least
/// `min_per_thread` items (below that a thread, about 20 µs to start, costs more than it saves).
/// A thread the system cannot start leaves its share to the calling thread.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    min_per_thread: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let most = items.len() / min_per_thread.max(1);
    // Too little work for two threads: the cores are not even asked for (that reads cgroup
    // files).
    let threads = if most < 2 || SERIAL.with(Cell::get) {
        1
    } else {
        threads().min(most)
    };
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let size = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let mut chunks = items.chunks(size);
        let first = chunks.next().unwrap_or_default();
        let others: Vec<_> = chunks
            .map(|chunk| {
                let spawned = std::thread::Builder::new()
                    .spawn_scoped(s, move || chunk.iter().map(f).collect::<Vec<R>>());
                (chunk, spawned)
            })
            .collect();
        let mut out: Vec<R> = first.iter().map(f).collect();
        for (chunk, spawned) in others {
            match spawned {
                Ok(handle) => match handle.join() {
                    Ok(part) => out.extend(part),
                    // A panic in `f` is a bug; it goes on unwinding as it would have inline.
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => out.extend(chunk.iter().map(f)),
            }
        }
        out
    })
}

/// Runs `f` with every `map` it makes (on this thread) done on this thread alone: for a
/// caller that records what happens on its own thread (`render::trace`).
pub fn serially<R>(f: impl FnOnce() -> R) -> R {
    let before = SERIAL.with(|s| s.replace(true));
    let out = f();
    SERIAL.with(|s| s.set(before));
    out
}

/// How many threads `map` may use: the cores this process may run on, at most 16, or
/// `DEPLOYGEN_THREADS` (1 runs everything on the calling thread).
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("DEPLOYGEN_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(NonZeroUsize::get)
                    .unwrap_or(1)
            })
            .min(16)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_the_items_order_whatever_the_split() {
        let items: Vec<u32> = (0..1000).collect();
        for min in [1, 7, 100, 999, 1000, 5000] {
            let out = map(&items, min, |x| x * 2);
            assert_eq!(
                out,
                items.iter().map(|x| x * 2).collect::<Vec<_>>(),
                "{min}"
            );
        }
        assert!(map(&[] as &[u32], 1, |x| *x).is_empty());
    }

    #[test]
    fn work_is_shared_out_when_there_is_enough_and_not_when_serial() {
        let items: Vec<u32> = (0..64).collect();
        let here = std::thread::current().id();
        let on: Vec<bool> = map(&items, 1, |_| std::thread::current().id() == here);
        assert!(on[0], "the first share stays on the calling thread");
        if threads() > 1 {
            assert!(on.iter().any(|x| !x), "some share ran on another thread");
        }
        let serial = serially(|| map(&items, 1, |_| std::thread::current().id() == here));
        assert!(serial.iter().all(|x| *x));
        // Serial ends with `serially`.
        if threads() > 1 {
            assert!(map(&items, 1, |_| std::thread::current().id() == here)
                .iter()
                .any(|x| !x));
        }
        // Too little work for a second thread.
        assert!(map(&items, 64, |_| std::thread::current().id() == here)
            .iter()
            .all(|x| *x));
    }
}
