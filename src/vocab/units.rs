//! Units of an impaired link: a probability and a bandwidth, each checked
//! when it is made, so a model never holds a loss of 150 % or a rate of
//! zero.

use std::fmt;

/// A unit value out of its range, named with the value given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    /// A probability outside 0 to 1 (0 % to 100 %), or not a number.
    #[error("probability {0} is not between 0 and 1 (0% and 100%)")]
    Probability(f64),
    /// A percentage outside 0 to 100, or not a number, as given to
    /// [`Probability::percent`].
    #[error("{0}% is not a percentage between 0 and 100")]
    Percent(f64),
    /// A bandwidth of zero bits per second.
    #[error("a bandwidth of 0 bit/s carries nothing; remove the rate instead")]
    ZeroBandwidth,
    /// A bandwidth over `u64::MAX` bits per second, as given to
    /// [`Bandwidth::kbit`], [`Bandwidth::mbit`] or [`Bandwidth::gbit`].
    #[error(
        "a bandwidth of {value} {unit} is over the largest, {} bit/s",
        u64::MAX
    )]
    BandwidthTooLarge {
        /// The number given.
        value: u64,
        /// Its unit: `kbit/s`, `Mbit/s` or `Gbit/s`.
        unit: &'static str,
    },
}

/// A probability, from 0 (never) to 1 (always).
///
/// ```
/// use netns_test::wire::Probability;
/// let p = Probability::percent(20.0)?;
/// assert_eq!(p, Probability::new(0.2)?);
/// assert_eq!(p.to_string(), "20%");
/// assert!(Probability::new(1.5).is_err());
/// # Ok::<(), netns_test::wire::UnitError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Probability(f64);

// Never NaN: `new` refuses it, so equality is total.
impl Eq for Probability {}

impl Probability {
    /// Never.
    pub const NEVER: Probability = Probability(0.0);
    /// Always.
    pub const ALWAYS: Probability = Probability(1.0);

    /// `p`, between 0 and 1 (`-0.0` is taken as 0).
    pub fn new(p: f64) -> Result<Probability, UnitError> {
        if (0.0..=1.0).contains(&p) {
            // Adding +0.0 turns -0.0 into +0.0 and leaves any other value.
            Ok(Probability(p + 0.0))
        } else {
            Err(UnitError::Probability(p))
        }
    }

    /// `pct` per cent, between 0 and 100; an error names `pct` as given.
    pub fn percent(pct: f64) -> Result<Probability, UnitError> {
        if (0.0..=100.0).contains(&pct) {
            Probability::new((pct / 100.0).min(1.0))
        } else {
            Err(UnitError::Percent(pct))
        }
    }

    /// The probability as a number between 0 and 1.
    pub fn get(self) -> f64 {
        self.0
    }

    /// Whether it is zero.
    pub fn is_never(self) -> bool {
        self.0 == 0.0
    }
}

/// The percentage, with at least three decimals and three significant
/// digits of its distance to 0 % and to 100 %: only [`Probability::NEVER`]
/// prints `0%` and only [`Probability::ALWAYS`] prints `100%`.
impl fmt::Display for Probability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = self.0 * 100.0;
        if pct == pct.round() {
            return write!(f, "{pct:.0}%");
        }
        let nearest_end = pct.min(100.0 - pct);
        let decimals = (2.0 - nearest_end.log10().floor()).max(3.0) as usize;
        let text = format!("{pct:.decimals$}");
        write!(f, "{}%", text.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// A bandwidth, in bits per second (of Ethernet frames, headers included).
///
/// `Display` is exact: the largest of Gbit/s, Mbit/s and kbit/s that
/// divides the rate, else Mbit/s with the decimals needed (`1.234567
/// Mbit/s`), else bit/s.
///
/// ```
/// use netns_test::wire::Bandwidth;
/// let b = Bandwidth::mbit(10)?;
/// assert_eq!(b.bits_per_second(), 10_000_000);
/// assert_eq!(b.to_string(), "10 Mbit/s");
/// assert!(Bandwidth::kbit(0).is_err());
/// # Ok::<(), netns_test::wire::UnitError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bandwidth(u64);

impl Bandwidth {
    /// `bps` bits per second.
    pub fn bits(bps: u64) -> Result<Bandwidth, UnitError> {
        if bps == 0 {
            Err(UnitError::ZeroBandwidth)
        } else {
            Ok(Bandwidth(bps))
        }
    }

    /// `k` kbit/s (1,000 bits per second); an error if 0 or over
    /// `u64::MAX` bits per second.
    pub fn kbit(k: u64) -> Result<Bandwidth, UnitError> {
        Bandwidth::scaled(k, 1_000, "kbit/s")
    }

    /// `m` Mbit/s (10⁶ bits per second); an error if 0 or over `u64::MAX`
    /// bits per second.
    pub fn mbit(m: u64) -> Result<Bandwidth, UnitError> {
        Bandwidth::scaled(m, 1_000_000, "Mbit/s")
    }

    /// `g` Gbit/s (10⁹ bits per second); an error if 0 or over `u64::MAX`
    /// bits per second.
    pub fn gbit(g: u64) -> Result<Bandwidth, UnitError> {
        Bandwidth::scaled(g, 1_000_000_000, "Gbit/s")
    }

    fn scaled(value: u64, scale: u64, unit: &'static str) -> Result<Bandwidth, UnitError> {
        let bps = value
            .checked_mul(scale)
            .ok_or(UnitError::BandwidthTooLarge { value, unit })?;
        Bandwidth::bits(bps)
    }

    /// Bits per second.
    pub fn bits_per_second(self) -> u64 {
        self.0
    }

    /// How long `bytes` take to cross at this rate.
    pub fn time_for(self, bytes: usize) -> std::time::Duration {
        let ns = (bytes as u128 * 8 * 1_000_000_000) / u128::from(self.0);
        std::time::Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        for (unit, name) in [
            (1_000_000_000, "Gbit/s"),
            (1_000_000, "Mbit/s"),
            (1_000, "kbit/s"),
        ] {
            if b >= unit && b % unit == 0 {
                return write!(f, "{} {name}", b / unit);
            }
        }
        if b >= 1_000_000 {
            let frac = format!("{:06}", b % 1_000_000);
            write!(f, "{}.{} Mbit/s", b / 1_000_000, frac.trim_end_matches('0'))
        } else {
            write!(f, "{b} bit/s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_range_is_checked() {
        assert!(Probability::new(0.0).is_ok());
        assert!(Probability::new(1.0).is_ok());
        assert_eq!(Probability::new(-0.1), Err(UnitError::Probability(-0.1)));
        assert!(Probability::new(f64::NAN).is_err());
        assert!(Probability::percent(101.0).is_err());
        assert_eq!(Probability::percent(0.5).unwrap().to_string(), "0.5%");
    }

    #[test]
    fn a_percentage_out_of_range_is_named_as_given() {
        assert_eq!(Probability::percent(150.0), Err(UnitError::Percent(150.0)));
        assert_eq!(
            Probability::percent(150.0).unwrap_err().to_string(),
            "150% is not a percentage between 0 and 100"
        );
        assert_eq!(Probability::percent(-5.0), Err(UnitError::Percent(-5.0)));
        assert!(matches!(
            Probability::percent(f64::NAN),
            Err(UnitError::Percent(p)) if p.is_nan()
        ));
        assert_eq!(Probability::percent(100.0), Ok(Probability::ALWAYS));
    }

    #[test]
    fn minus_zero_is_never() {
        for p in [Probability::new(-0.0), Probability::percent(-0.0)] {
            let p = p.unwrap();
            assert!(p.is_never());
            assert!(p.get().is_sign_positive());
            assert_eq!(p.to_string(), "0%");
        }
    }

    #[test]
    fn only_never_and_always_print_as_0_and_100_percent() {
        for (p, text) in [
            (1e-6, "0.0001%"),
            (1.234e-7, "0.0000123%"),
            (0.001_234_5, "0.123%"),
            (0.123_456, "12.346%"),
            (0.999_999, "99.9999%"),
            (0.2, "20%"),
        ] {
            let p = Probability::new(p).unwrap();
            assert_eq!(p.to_string(), text);
        }
        for p in [f64::MIN_POSITIVE, 1e-300, 1e-12, 1.0 - f64::EPSILON] {
            let text = Probability::new(p).unwrap().to_string();
            assert!(text != "0%" && text != "100%", "{p:e}: {text}");
        }
    }

    #[test]
    fn a_bandwidth_over_u64_is_refused_not_capped() {
        let max_gbit = u64::MAX / 1_000_000_000;
        assert!(Bandwidth::gbit(max_gbit).is_ok());
        assert_eq!(
            Bandwidth::gbit(max_gbit + 1),
            Err(UnitError::BandwidthTooLarge {
                value: max_gbit + 1,
                unit: "Gbit/s"
            })
        );
        assert!(matches!(
            Bandwidth::mbit(u64::MAX),
            Err(UnitError::BandwidthTooLarge { unit: "Mbit/s", .. })
        ));
        assert_eq!(
            Bandwidth::kbit(u64::MAX).unwrap_err().to_string(),
            format!(
                "a bandwidth of {} kbit/s is over the largest, {} bit/s",
                u64::MAX,
                u64::MAX
            )
        );
        assert_eq!(Bandwidth::kbit(0), Err(UnitError::ZeroBandwidth));
    }

    #[test]
    fn bandwidth_times_frames() {
        let b = Bandwidth::mbit(8).unwrap();
        assert_eq!(b.time_for(1000), std::time::Duration::from_millis(1));
        assert_eq!(
            Bandwidth::bits(1_500_000).unwrap().to_string(),
            "1500 kbit/s"
        );
        assert_eq!(
            Bandwidth::bits(1_234_567).unwrap().to_string(),
            "1.234567 Mbit/s"
        );
        assert_eq!(
            Bandwidth::bits(1_000_001).unwrap().to_string(),
            "1.000001 Mbit/s"
        );
        assert_eq!(Bandwidth::bits(1_001).unwrap().to_string(), "1001 bit/s");
    }
}
