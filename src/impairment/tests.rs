//! The model on a virtual clock: decisions are functions of the seed and
//! the frames, and each stage does what it says.

use std::time::Duration;

use super::model::{Distribution, GilbertElliott, Impairment, ImpairmentError, Loss, MAX_DELAY};
use super::pipeline::{sample, Delivery, DropCause, Fate, Pipeline};
use super::presets::Profile;
use super::rule::Verdict;
use crate::vocab::{Bandwidth, Probability, Rng};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn pct(x: f64) -> Probability {
    Probability::percent(x).unwrap()
}

/// Feeds `n` frames of `len` bytes, one every `gap`, and returns the fates.
fn run(model: Impairment, seed: u64, n: usize, len: usize, gap: Duration) -> Vec<Fate> {
    let mut p = Pipeline::new(model, Rng::new(seed));
    (0..n)
        .map(|i| p.decide(gap * i as u32, len, Verdict::Pass))
        .collect()
}

fn lost_indices(fates: &[Fate]) -> Vec<usize> {
    fates
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f, Fate::Dropped(DropCause::Loss)))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn same_seed_same_decisions_other_seed_others() {
    let model = Impairment::new()
        .delay(ms(10))
        .jitter(ms(3), Distribution::Normal)
        .loss(pct(20.0))
        .duplicate(pct(5.0))
        .corrupt(pct(5.0));
    let a = run(model.clone(), 7, 2000, 100, ms(1));
    let b = run(model.clone(), 7, 2000, 100, ms(1));
    let c = run(model, 8, 2000, 100, ms(1));
    assert_eq!(a, b);
    assert_ne!(lost_indices(&a), lost_indices(&c));
}

#[test]
fn bernoulli_loss_rate_is_within_the_binomial_bounds() {
    // 10,000 frames at p = 0.2: mean 2,000, standard deviation 40; six
    // standard deviations either way (the seed is fixed, so this never
    // flakes; the bound shows the generator is not biased).
    let fates = run(Impairment::new().loss(pct(20.0)), 1, 10_000, 100, ms(1));
    let lost = lost_indices(&fates).len();
    assert!((1760..=2240).contains(&lost), "{lost} lost");
}

#[test]
fn gilbert_elliott_loses_in_bursts_at_its_mean_rate() {
    let chain = GilbertElliott {
        to_bad: pct(1.0),
        to_good: pct(20.0),
        loss_in_good: Probability::NEVER,
        loss_in_bad: Probability::ALWAYS,
    };
    let mean = chain.mean_loss();
    let fates = run(Impairment::new().loss_bursts(chain), 3, 100_000, 100, ms(1));
    let lost = lost_indices(&fates);
    let rate = lost.len() as f64 / 100_000.0;
    assert!((rate - mean).abs() < 0.01, "rate {rate}, mean {mean}");
    // Bursts: a lost frame is followed by another lost one about 80 % of
    // the time (1 - to_good), against 4.8 % for independent losses.
    let follows = lost.windows(2).filter(|w| w[1] == w[0] + 1).count();
    let ratio = follows as f64 / lost.len() as f64;
    assert!(ratio > 0.7, "consecutive ratio {ratio}");
}

#[test]
fn delay_is_exact_without_jitter() {
    let fates = run(Impairment::new().delay(ms(50)), 1, 3, 100, ms(1));
    for (i, f) in fates.iter().enumerate() {
        let at = ms(1) * i as u32 + ms(50);
        assert_eq!(f, &Fate::Delivered(Delivery { at, flip_bit: None }, None));
    }
}

#[test]
fn rate_serialises_and_tail_drops() {
    // 1,250-byte frames at 10 Mbit/s take 1 ms each; 5 arrive at once with
    // room for 3 in the queue.
    let model = Impairment::new()
        .rate(Bandwidth::mbit(10).unwrap())
        .queue_limit(3);
    let mut p = Pipeline::new(model, Rng::new(0));
    let fates: Vec<_> = (0..5)
        .map(|_| p.decide(Duration::ZERO, 1250, Verdict::Pass))
        .collect();
    let at = |f: &Fate| match f {
        Fate::Delivered(d, _) => Some(d.at),
        Fate::Dropped(_) => None,
    };
    assert_eq!(at(&fates[0]), Some(ms(1)));
    assert_eq!(at(&fates[1]), Some(ms(2)));
    assert_eq!(at(&fates[2]), Some(ms(3)));
    assert_eq!(fates[3], Fate::Dropped(DropCause::Queue));
    assert_eq!(fates[4], Fate::Dropped(DropCause::Queue));
    // After 1.5 ms one frame has left: room for one more, after the others.
    assert_eq!(
        at(&p.decide(Duration::from_micros(1500), 1250, Verdict::Pass)),
        Some(ms(4))
    );
}

#[test]
fn reordered_frames_skip_the_delay() {
    let fates = run(
        Impairment::new().delay(ms(20)).reorder(pct(25.0)),
        5,
        1000,
        100,
        ms(1),
    );
    let skipped = fates
        .iter()
        .enumerate()
        .filter(|(i, f)| matches!(f, Fate::Delivered(d, _) if d.at == ms(*i as u64)))
        .count();
    assert!((150..=350).contains(&skipped), "{skipped} skipped");
}

#[test]
fn corruption_flips_a_bit_past_the_ethernet_header() {
    let fates = run(
        Impairment::new().corrupt(Probability::ALWAYS),
        9,
        500,
        60,
        ms(1),
    );
    for f in &fates {
        let Fate::Delivered(d, None) = f else {
            panic!("{f:?}")
        };
        let bit = d.flip_bit.expect("always corrupted");
        assert!((14 * 8..60 * 8).contains(&bit), "bit {bit}");
    }
}

#[test]
fn verdicts_drop_duplicate_and_delay() {
    let mut p = Pipeline::new(Impairment::new(), Rng::new(0));
    assert_eq!(
        p.decide(ms(1), 100, Verdict::Drop),
        Fate::Dropped(DropCause::Rule)
    );
    let Fate::Delivered(a, Some(b)) = p.decide(ms(1), 100, Verdict::Duplicate) else {
        panic!("not duplicated")
    };
    assert_eq!(a.at, b.at);
    let Fate::Delivered(d, None) = p.decide(ms(1), 100, Verdict::Delay(ms(7))) else {
        panic!("not delivered")
    };
    assert_eq!(d.at, ms(8));
}

#[test]
fn mtu_drops_larger_packets_only() {
    let mut p = Pipeline::new(Impairment::new().mtu(1280), Rng::new(0));
    assert!(matches!(
        p.decide(ms(0), 14 + 1280, Verdict::Pass),
        Fate::Delivered(..)
    ));
    assert_eq!(
        p.decide(ms(0), 14 + 1281, Verdict::Pass),
        Fate::Dropped(DropCause::Mtu)
    );
}

#[test]
fn distributions_have_mean_zero_and_unit_spread() {
    for d in [
        Distribution::Uniform,
        Distribution::Normal,
        Distribution::Pareto,
    ] {
        let mut rng = Rng::new(11);
        let xs: Vec<f64> = (0..200_000).map(|_| sample(&mut rng, d)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        assert!(mean.abs() < 0.02, "{d}: mean {mean}");
        // Uniform on [-1, 1] has sd 1/sqrt(3); Pareto(3)'s sample sd
        // converges slowly (infinite fourth moment), hence its wider band.
        let want = if d == Distribution::Uniform {
            1.0 / 3f64.sqrt()
        } else {
            1.0
        };
        let tol = if d == Distribution::Pareto {
            0.15
        } else {
            0.02
        };
        assert!((sd - want).abs() < tol, "{d}: sd {sd}");
    }
}

#[test]
fn validation_names_the_problem() {
    assert_eq!(
        Impairment::new().reorder(pct(10.0)).validate(),
        Err(ImpairmentError::ReorderWithoutDelay(pct(10.0)))
    );
    assert_eq!(
        Impairment::new().queue_limit(0).validate(),
        Err(ImpairmentError::ZeroQueue)
    );
    assert_eq!(
        Impairment::new().mtu(20).validate(),
        Err(ImpairmentError::Mtu(20))
    );
    // A burst and a queue limit shape nothing without a rate.
    assert_eq!(
        Impairment::new().burst(3000).validate(),
        Err(ImpairmentError::BurstWithoutRate(3000))
    );
    assert_eq!(
        Impairment::new().queue_limit(10).validate(),
        Err(ImpairmentError::QueueWithoutRate(10))
    );
    let rate = Bandwidth::mbit(10).unwrap();
    assert!(Impairment::new()
        .rate(rate)
        .burst(3000)
        .queue_limit(10)
        .validate()
        .is_ok());
    assert!(Impairment::new().is_transparent());
}

/// When a delivered frame leaves; `None` for a dropped one.
fn leaves(f: &Fate) -> Option<Duration> {
    match f {
        Fate::Delivered(d, _) => Some(d.at),
        Fate::Dropped(_) => None,
    }
}

#[test]
fn a_burst_never_lets_a_small_frame_overtake_a_big_one() {
    // 10 Mbit/s: 1,250 bytes take 1 ms, 125 bytes 0.1 ms; the bucket lets
    // 2,500 bytes pass at once.
    let model = Impairment::new()
        .rate(Bandwidth::mbit(10).unwrap())
        .burst(2500);
    let mut p = Pipeline::new(model, Rng::new(0));
    let big = leaves(&p.decide(Duration::ZERO, 1250, Verdict::Pass)).unwrap();
    let small = leaves(&p.decide(Duration::ZERO, 125, Verdict::Pass)).unwrap();
    assert!(
        small >= big,
        "the small frame leaves at {small:?}, before the big one at {big:?}"
    );
}

#[test]
fn the_rate_stage_is_first_in_first_out_whatever_the_sizes() {
    // Frames of random sizes at random moments through a bucket with a
    // burst and a short queue: every frame that passes leaves no earlier
    // than the one before it, so the queue's finish times only grow.
    let model = Impairment::new()
        .rate(Bandwidth::mbit(10).unwrap())
        .burst(4000)
        .queue_limit(8);
    let mut p = Pipeline::new(model, Rng::new(1));
    let mut rng = Rng::new(2);
    let mut now = Duration::ZERO;
    let mut last = Duration::ZERO;
    let mut passed = 0;
    for _ in 0..20_000 {
        now += Duration::from_micros(rng.below(1500) as u64);
        let len = 60 + rng.below(1455);
        if let Some(at) = leaves(&p.decide(now, len, Verdict::Pass)) {
            assert!(
                at >= last,
                "a frame leaves at {at:?}, before the one before it at {last:?}"
            );
            assert!(at >= now);
            last = at;
            passed += 1;
        }
    }
    assert!(passed > 10_000, "{passed} passed");
}

#[test]
fn a_new_model_keeps_the_old_backlog_and_the_order() {
    // 100 kbit/s: each 1,250-byte frame takes 100 ms; ten frames make a
    // backlog of one second.
    let slow = Impairment::new()
        .rate(Bandwidth::kbit(100).unwrap())
        .queue_limit(100);
    let mut p = Pipeline::new(slow.clone(), Rng::new(0));
    let last = (0..10)
        .map(|_| leaves(&p.decide(Duration::ZERO, 1250, Verdict::Pass)).unwrap())
        .max()
        .unwrap();
    assert_eq!(last, ms(1000));
    // Sped up to 100 Mbit/s: a frame takes 0.1 ms, after the backlog.
    p.set_model(Impairment::new().rate(Bandwidth::mbit(100).unwrap()));
    let at = leaves(&p.decide(ms(1), 1250, Verdict::Pass)).unwrap();
    assert_eq!(at, ms(1000) + Duration::from_micros(100));
    // The same slow rate again: the bucket is not refilled, the next frame
    // waits its 100 ms behind the one before.
    p.set_model(slow);
    let at2 = leaves(&p.decide(ms(2), 1250, Verdict::Pass)).unwrap();
    assert_eq!(at2, at + ms(100));
    // A plain delay shorter than the backlog: no frame before the last one.
    p.set_model(Impairment::new().delay(ms(10)));
    assert_eq!(leaves(&p.decide(ms(3), 100, Verdict::Pass)), Some(at2));
    // A model that asks for jitter may reorder.
    let jittery = Impairment::new()
        .delay(ms(10))
        .jitter(ms(1), Distribution::Uniform);
    p.set_model(jittery);
    assert!(leaves(&p.decide(ms(4), 100, Verdict::Pass)).unwrap() < ms(20));
    // Without a rate the rate stage's queue goes: a later rate starts afresh.
    p.set_model(Impairment::new().rate(Bandwidth::kbit(100).unwrap()));
    let at3 = leaves(&p.decide(ms(2000), 1250, Verdict::Pass)).unwrap();
    assert_eq!(at3, ms(2100));
}

#[test]
fn huge_delays_saturate_instead_of_panicking() {
    // A rule's verdict is not validated: it may ask for any delay.
    let mut p = Pipeline::new(Impairment::new().delay(ms(5)), Rng::new(0));
    let at = leaves(&p.decide(ms(1), 100, Verdict::Delay(Duration::MAX))).unwrap();
    assert_eq!(at, Duration::MAX);
    // Models that validation refuses (pipelines are not built from them,
    // but nothing in the pipeline panics on one either).
    for model in [
        Impairment::new().delay(Duration::MAX),
        Impairment::new()
            .delay(ms(1))
            .jitter(Duration::MAX, Distribution::Pareto),
        Impairment::new()
            .rate(Bandwidth::bits(1).unwrap())
            .burst(usize::MAX),
    ] {
        let mut p = Pipeline::new(model, Rng::new(3));
        for i in 0..100 {
            let f = p.decide(
                Duration::MAX - ms(1) + Duration::from_micros(i),
                1514,
                Verdict::Pass,
            );
            assert!(
                leaves(&f).is_some_and(|at| at >= Duration::MAX - ms(1)),
                "{f:?}"
            );
        }
    }
}

#[test]
fn validation_bounds_the_delay_and_the_jitter() {
    assert_eq!(
        Impairment::new().delay(Duration::MAX).validate(),
        Err(ImpairmentError::DelayTooLong(Duration::MAX))
    );
    let over = MAX_DELAY + Duration::from_nanos(1);
    assert_eq!(
        Impairment::new()
            .delay(ms(1))
            .jitter(over, Distribution::Normal)
            .validate(),
        Err(ImpairmentError::JitterTooLong(over))
    );
    let err = Impairment::new().delay(over).validate().unwrap_err();
    assert!(
        err.to_string().starts_with("delay 86400.000000001s"),
        "{err}"
    );
    assert!(Impairment::new()
        .delay(MAX_DELAY)
        .jitter(MAX_DELAY, Distribution::Uniform)
        .validate()
        .is_ok());
}

#[test]
fn lossy_wifi_loses_about_one_frame_in_a_hundred() {
    // The chain is bad 0.004 / (0.004 + 0.2) = 1.96 % of the time and
    // loses half the frames there: a mean loss of 0.98 %.
    let model = Profile::lossy_wifi().forward;
    let Loss::Bursts(chain) = model.loss else {
        panic!("{model}")
    };
    assert!(
        (chain.mean_loss() - 0.0098).abs() < 0.0001,
        "{}",
        chain.mean_loss()
    );
    // 200,000 frames: a bad spell starts every 255 frames on average (250
    // good frames, then 5 bad ones), so about 784 spells losing 2.5 frames
    // each, 1,960 in all. Losses come in spells, so their spread is wider
    // than a binomial's: per spell the loss has variance
    // E[L]/4 + Var(L)/4 = 5/4 + 20/4 = 6.25 (L, the spell's length, is
    // geometric with mean 5 and variance 20); the number of spells, a
    // renewal count, has variance about N Var(cycle) / E[cycle]^3
    // = 200,000 * 62,270 / 255^3, about 751. The total's variance is about
    // 784 * 6.25 + 751 * 2.5^2 = 9,600: a standard deviation of 98.
    // Six of them either way: 1,372 to 2,548 (a 2 % mean would be 4,000).
    let mut p = Pipeline::new(Impairment::new().loss_bursts(chain), Rng::new(12));
    let lost = (0..200_000u32)
        .filter(|&i| {
            p.decide(Duration::from_micros(u64::from(i)), 100, Verdict::Pass)
                == Fate::Dropped(DropCause::Loss)
        })
        .count();
    assert!((1372..=2548).contains(&lost), "{lost} lost");
}

/// An Ethernet frame with `tags` (802.1Q or 802.1ad, outer first) and an
/// IPv4 packet of `packet` bytes.
fn tagged_frame(tags: &[u16], packet: usize) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend([2, 0, 0, 0, 0, 1]);
    for &tpid in tags {
        f.extend(tpid.to_be_bytes());
        f.extend([0x00, 0x64]);
    }
    f.extend([0x08, 0x00]);
    f.resize(f.len() + packet, 0x45);
    f
}

#[test]
fn mtu_counts_the_packet_after_the_vlan_tags() {
    let mut p = Pipeline::new(Impairment::new().mtu(1280), Rng::new(0));
    for tags in [&[][..], &[0x8100], &[0x88a8, 0x8100]] {
        assert!(
            matches!(
                p.decide_frame(ms(0), &tagged_frame(tags, 1280), Verdict::Pass),
                Fate::Delivered(..)
            ),
            "tags {tags:x?}"
        );
        assert_eq!(
            p.decide_frame(ms(0), &tagged_frame(tags, 1281), Verdict::Pass),
            Fate::Dropped(DropCause::Mtu),
            "tags {tags:x?}"
        );
    }
}

#[test]
fn a_frame_the_queue_drops_changes_no_later_decision() {
    // 1,250-byte frames at 10 Mbit/s take 1 ms each, with room for 2 in
    // the queue. Spaced 2 ms apart, none waits; in the second run frames
    // 10 to 14 arrive together, and the queue drops some of them. The
    // frames are the same, so every frame's loss (drawn before the queue)
    // is the same in both runs.
    let model = Impairment::new()
        .loss(pct(30.0))
        .duplicate(pct(10.0))
        .corrupt(pct(10.0))
        .delay(ms(10))
        .jitter(ms(2), Distribution::Uniform)
        .reorder(pct(10.0))
        .rate(Bandwidth::mbit(10).unwrap())
        .queue_limit(2);
    let arrivals = |burst: bool| {
        (0..200u64).map(move |i| match i {
            10..=14 if burst => ms(20),
            _ => ms(2 * i),
        })
    };
    let fates = |burst: bool| {
        let mut p = Pipeline::new(model.clone(), Rng::new(21));
        arrivals(burst)
            .map(|at| p.decide(at, 1250, Verdict::Pass))
            .collect::<Vec<_>>()
    };
    let (spaced, bunched) = (fates(false), fates(true));
    let queue_dropped = |f: &[Fate]| {
        f.iter()
            .filter(|f| **f == Fate::Dropped(DropCause::Queue))
            .count()
    };
    assert_eq!(queue_dropped(&spaced), 0);
    assert!(queue_dropped(&bunched) > 0, "{bunched:?}");
    assert_eq!(lost_indices(&spaced), lost_indices(&bunched));
    // After the bunch, the frames' other choices are the same too.
    assert_eq!(spaced[15..], bunched[15..]);
}

#[test]
fn a_burst_lets_at_most_its_bytes_leave_at_once() {
    // 10 Mbit/s: a 1,500-byte frame takes 1.2 ms. A bucket of 3,000 bytes
    // lets two of five frames that arrive together leave with the first
    // one's serialisation; the others follow at the rate.
    let model = Impairment::new()
        .rate(Bandwidth::mbit(10).unwrap())
        .burst(3000);
    let mut p = Pipeline::new(model, Rng::new(0));
    let at: Vec<_> = (0..5)
        .map(|_| leaves(&p.decide(Duration::ZERO, 1500, Verdict::Pass)).unwrap())
        .collect();
    let us = Duration::from_micros;
    assert_eq!(at, [us(1200), us(1200), us(2400), us(3600), us(4800)]);
    // After an idle spell the bucket is full again; a frame larger than it
    // waits for the rate only.
    let later = ms(100);
    let mut p = Pipeline::new(
        Impairment::new()
            .rate(Bandwidth::mbit(10).unwrap())
            .burst(1000),
        Rng::new(0),
    );
    let at: Vec<_> = (0..2)
        .map(|_| leaves(&p.decide(later, 1500, Verdict::Pass)).unwrap())
        .collect();
    assert_eq!(at, [later + us(1200), later + us(2400)]);
}
