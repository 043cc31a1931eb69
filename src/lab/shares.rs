//! Work on independent items split across threads, for big labs.
//!
//! The items are cut into one contiguous share per thread; the calling
//! thread takes the first share, each other share gets a thread of its own,
//! and the results come back in item order.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Result;

/// Fewer items than this stay on the calling thread alone: a thread costs
/// more than the work it would take over.
const PARALLEL_FROM: usize = 64;

/// At most this many threads share the work.
const MAX_THREADS: usize = 8;

/// Runs `work` on every item of `items`, on up to one thread per core. The
/// threads are named `{name}-1`, `{name}-2`, ... Each share has a state of
/// its own, made by `init` on the share's thread and handed to `work` with
/// each of its items in turn.
///
/// The first error in item order is returned; once an item has failed, no
/// thread starts an item after it, and every thread has ended before this
/// returns (so what the other shares made is dropped, not leaked). A share
/// whose thread cannot be started runs on the calling thread.
pub(super) fn in_shares<T, R, S, I, F>(items: &[T], name: &str, init: I, work: F) -> Result<Vec<R>>
where
    T: Sync,
    R: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &T) -> Result<R> + Sync,
{
    in_shares_on(threads_for(items.len()), items, name, init, work)
}

/// [`in_shares`] on `threads` threads.
fn in_shares_on<T, R, S, I, F>(
    threads: usize,
    items: &[T],
    name: &str,
    init: I,
    work: F,
) -> Result<Vec<R>>
where
    T: Sync,
    R: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &T) -> Result<R> + Sync,
{
    // The index of the first item that failed so far.
    let failed = AtomicUsize::new(usize::MAX);
    let run = |start: usize, share: &[T]| -> Result<Vec<R>> {
        let mut out = Vec::with_capacity(share.len());
        let mut state = init();
        for (i, item) in share.iter().enumerate() {
            if failed.load(Ordering::Relaxed) < start + i {
                break;
            }
            match work(&mut state, item) {
                Ok(r) => out.push(r),
                Err(e) => {
                    failed.fetch_min(start + i, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(out)
    };
    if threads <= 1 || items.is_empty() {
        return run(0, items);
    }
    let per = items.len().div_ceil(threads);
    let run = &run;
    std::thread::scope(|s| {
        let mut shares = items.chunks(per).enumerate();
        let (_, first) = shares.next().expect("items is not empty");
        let mut others = Vec::new();
        for (k, share) in shares {
            let start = k * per;
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{k}"))
                .spawn_scoped(s, move || run(start, share));
            others.push((start, share, spawned.ok()));
        }
        let mut all = run(0, first);
        for (start, share, handle) in others {
            let done = match handle {
                Some(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                None => run(start, share),
            };
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
pub(super) fn threads_for(n: usize) -> usize {
    if n < PARALLEL_FROM {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    cores.clamp(1, MAX_THREADS).min(n / (PARALLEL_FROM / 2))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::error::Error;

    /// [`in_shares_on`] with no state.
    fn on<T: Sync, R: Send>(
        threads: usize,
        items: &[T],
        work: impl Fn(&T) -> Result<R> + Sync,
    ) -> Result<Vec<R>> {
        in_shares_on(threads, items, "t", || (), |_, item| work(item))
    }

    #[test]
    fn each_share_has_a_state_of_its_own() {
        let items: Vec<usize> = (0..10).collect();
        for threads in [1, 2, 3] {
            // The state counts the items its share has seen.
            let seen = in_shares_on(
                threads,
                &items,
                "t",
                || 0,
                |n: &mut usize, _| {
                    *n += 1;
                    Ok(*n)
                },
            )
            .unwrap();
            let per = items.len().div_ceil(threads);
            let want: Vec<usize> = (0..items.len()).map(|i| i % per + 1).collect();
            assert_eq!(seen, want, "{threads} threads");
        }
    }

    fn fail(op: &str) -> Error {
        Error::Spawn {
            op: op.into(),
            source: std::io::Error::other("test"),
        }
    }

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
    fn results_come_back_in_order_on_every_thread_count() {
        let items: Vec<usize> = (0..1000).collect();
        for threads in [1, 2, 3, 8] {
            let names = std::sync::Mutex::new(std::collections::BTreeSet::new());
            let out = on(threads, &items, |i| {
                let me = std::thread::current().name().map(str::to_string);
                names.lock().unwrap().insert(me);
                Ok(i * 2)
            })
            .unwrap();
            assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
            assert_eq!(names.into_inner().unwrap().len(), threads, "{threads}");
        }
    }

    #[test]
    fn the_first_error_in_item_order_wins() {
        let items: Vec<usize> = (0..1000).collect();
        // Only a later share fails.
        let r = on(
            3,
            &items,
            |&i| {
                if i == 900 {
                    Err(fail("900"))
                } else {
                    Ok(i)
                }
            },
        );
        assert!(matches!(r, Err(Error::Spawn { op, .. }) if op == "900"));
        // Two shares fail: the earlier item's error is returned.
        let r = on(3, &items, |&i| match i {
            10 => Err(fail("10")),
            700 => Err(fail("700")),
            _ => Ok(i),
        });
        assert!(matches!(r, Err(Error::Spawn { op, .. }) if op == "10"));
    }

    #[test]
    fn no_item_after_a_failed_one_starts_once_it_has_failed() {
        let items: Vec<usize> = (0..1000).collect();
        let done = AtomicUsize::new(0);
        let r = on(1, &items, |&i| {
            done.fetch_add(1, Ordering::Relaxed);
            if i == 3 {
                Err(fail("3"))
            } else {
                Ok(i)
            }
        });
        assert!(r.is_err());
        assert_eq!(done.load(Ordering::Relaxed), 4);
        // On two threads the second share stops at its next item: at most
        // the items it had started before item 0 failed are made.
        let done = AtomicUsize::new(0);
        let r = on(2, &items, |&i| {
            done.fetch_add(1, Ordering::Relaxed);
            if i == 0 {
                // Give the other share time to start before failing.
                std::thread::sleep(std::time::Duration::from_millis(20));
                return Err(fail("0"));
            }
            std::thread::sleep(std::time::Duration::from_micros(100));
            Ok(i)
        });
        assert!(r.is_err());
        assert!(
            done.load(Ordering::Relaxed) < 500,
            "{}",
            done.load(Ordering::Relaxed)
        );
    }
}
