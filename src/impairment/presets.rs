//! Links people test against, as pairs of models: `forward` is from the
//! link's first node (the client, the handset) to its second (the network),
//! the uplink; `backward` is the downlink.

use std::time::Duration;

use super::model::{Distribution, GilbertElliott, Impairment};
use crate::vocab::{Bandwidth, Probability};

/// A model for each direction of a wire.
///
/// ```
/// use netns_test::wire::Profile;
/// let lte = Profile::lte();
/// assert_eq!(lte.forward.to_string(), "delay 35ms, rate 12 Mbit/s (queue 1000)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// From the first node to the second (uplink).
    pub forward: Impairment,
    /// From the second node to the first (downlink).
    pub backward: Impairment,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn p(x: f64) -> Probability {
    Probability::new(x).expect("a preset's probability is in range")
}

fn rate(bps: u64) -> Bandwidth {
    Bandwidth::bits(bps).expect("a preset's rate is not zero")
}

impl Profile {
    /// The same model both ways.
    pub fn symmetric(model: Impairment) -> Self {
        Profile {
            forward: model.clone(),
            backward: model,
        }
    }

    /// LTE: 70 ms round trip, 12 Mbit/s each way: WebPageTest's "LTE"
    /// connectivity profile (`www/settings/connectivity.ini.sample` in
    /// WPO-Foundation/webpagetest).
    pub fn lte() -> Self {
        Profile::symmetric(Impairment::new().delay(ms(35)).rate(rate(12_000_000)))
    }

    /// A slow mobile link: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s
    /// up: Lighthouse's default "Slow 4G" throttling, identical to
    /// WebPageTest's "Mobile 3G - Fast" (Lighthouse `docs/throttling.md`).
    pub fn slow_mobile() -> Self {
        Profile {
            forward: Impairment::new().delay(ms(75)).rate(rate(750_000)),
            backward: Impairment::new().delay(ms(75)).rate(rate(1_600_000)),
        }
    }

    /// DSL: 50 ms round trip, 1.5 Mbit/s down, 384 kbit/s up: WebPageTest's
    /// "DSL" profile.
    pub fn dsl() -> Self {
        Profile {
            forward: Impairment::new().delay(ms(25)).rate(rate(384_000)),
            backward: Impairment::new().delay(ms(25)).rate(rate(1_500_000)),
        }
    }

    /// A geostationary satellite link: 300 ms each way (the satellite is
    /// 35,786 km up, so ground to satellite to ground alone is about 240 ms;
    /// ITU-T G.114 counts about 270 ms one way for such a hop, plus
    /// processing), ± 10 ms of normal jitter, 0.1 % loss, 25 Mbit/s down and
    /// 3 Mbit/s up (the order of a consumer plan).
    pub fn satellite() -> Self {
        let base = Impairment::new()
            .delay(ms(300))
            .jitter(ms(10), Distribution::Normal)
            .loss(p(0.001));
        Profile {
            forward: base.clone().rate(rate(3_000_000)),
            backward: base.rate(rate(25_000_000)),
        }
    }

    /// A poor Wi-Fi link: 3 ms ± 5 ms Pareto jitter (most frames quick, a
    /// few very late, as retransmissions at the radio layer make them),
    /// losses in bursts averaging 0.98 % (a bad spell after 250 good frames
    /// on average, lasting 5 frames and losing half of them: the link is
    /// bad 0.004 / 0.204 = 1.96 % of the time, and loses half of that),
    /// 20 Mbit/s. These figures are ours, chosen to exercise retransmission
    /// and reordering-tolerant code, not a measurement.
    ///
    /// ```
    /// use netns_test::wire::Profile;
    /// let wifi = Profile::lossy_wifi().forward.to_string();
    /// assert!(wifi.contains("mean 0.98%"), "{wifi}");
    /// ```
    pub fn lossy_wifi() -> Self {
        Profile::symmetric(
            Impairment::new()
                .delay(ms(3))
                .jitter(ms(5), Distribution::Pareto)
                .loss_bursts(GilbertElliott {
                    to_bad: p(0.004),
                    to_good: p(0.2),
                    loss_in_good: Probability::NEVER,
                    loss_in_bad: p(0.5),
                })
                .rate(rate(20_000_000)),
        )
    }
}
