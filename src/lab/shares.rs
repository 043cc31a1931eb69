//! Work on independent nodes split across threads, for big labs.
//!
//! The items are cut into one contiguous share per thread; the calling
//! thread takes the first share, each other share gets a thread of its own,
//! and the results come back in item order.

use crate::error::{Error, Result};

/// Fewer items than this stay on the calling thread alone: a thread costs
/// more than the work it would take over.
const PARALLEL_FROM: usize = 64;

/// At most this many threads share the work.
const MAX_THREADS: usize = 8;

/// Runs `work` over `items` in shares, on up to one thread per core. The
/// threads are named `{name}-1`, `{name}-2`, ...
///
/// Every share runs to its end or its first error; the first error in item
/// order is returned, after every thread has ended (so what the other
/// shares made is dropped, not leaked).
pub(super) fn in_shares<T, R, F>(items: Vec<T>, name: &str, work: F) -> Result<Vec<R>>
where
    T: Send,
    R: Send,
    F: Fn(Vec<T>) -> Result<Vec<R>> + Sync,
{
    let threads = threads_for(items.len());
    if threads <= 1 {
        return work(items);
    }
    let per = items.len().div_ceil(threads);
    let mut shares: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        shares.push(items.by_ref().take(per).collect());
    }
    let mut shares = shares.into_iter();
    let first = shares.next().unwrap_or_default();
    let work = &work;
    std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .enumerate()
            .map(|(i, share)| {
                std::thread::Builder::new()
                    .name(format!("{name}-{}", i + 1))
                    .spawn_scoped(s, move || work(share))
                    .map_err(|source| Error::Spawn {
                        op: format!("spawn thread {name}-{}", i + 1),
                        source,
                    })
            })
            .collect();
        let mut all = work(first);
        for handle in handles {
            let done =
                handle.and_then(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            all = match (all, done) {
                (Ok(mut all), Ok(done)) => {
                    all.extend(done);
                    Ok(all)
                }
                (Err(e), _) | (Ok(_), Err(e)) => Err(e),
            };
        }
        all
    })
}

/// How many threads share `n` items.
fn threads_for(n: usize) -> usize {
    if n < PARALLEL_FROM {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    cores.clamp(1, MAX_THREADS).min(n / (PARALLEL_FROM / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_batches_stay_on_one_thread() {
        assert_eq!(threads_for(0), 1);
        assert_eq!(threads_for(2), 1);
        assert_eq!(threads_for(PARALLEL_FROM - 1), 1);
    }

    #[test]
    fn each_thread_gets_at_least_half_the_threshold() {
        for n in [PARALLEL_FROM, 100, 1000, 100_000] {
            let t = threads_for(n);
            assert!((1..=MAX_THREADS).contains(&t), "{n}: {t}");
            assert!(n / t >= PARALLEL_FROM / 2, "{n}: {t}");
        }
    }

    #[test]
    fn results_come_back_in_order() {
        let items: Vec<usize> = (0..1000).collect();
        let out = in_shares(items, "t", |share| {
            Ok(share.iter().map(|i| i * 2).collect())
        })
        .unwrap();
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_error_in_item_order_wins() {
        let fail = |op: &str| Error::Spawn {
            op: op.into(),
            source: std::io::Error::other("test"),
        };
        let items: Vec<usize> = (0..1000).collect();
        let r = in_shares(items, "t", |share| {
            if share.contains(&0) {
                return Err(fail("first"));
            }
            if share.contains(&999) {
                return Err(fail("last"));
            }
            Ok(share)
        });
        assert!(matches!(r, Err(Error::Spawn { op, .. }) if op == "first"));
    }
}
