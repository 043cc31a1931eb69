//! A wire's model as a file writes it: `{ delay = "50ms", jitter = "5ms",
//! loss = 20, rate = "10mbit" }`, in a wire end (`egress`, `ingress`) or an
//! `impair` step. Percentages and rates are checked as they are read, so a
//! mistake is placed at its value.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::units::Dur;
use crate::impairment::{Distribution, GilbertElliott, Impairment, Profile};
use crate::vocab::{Bandwidth, Probability};

/// A percentage, 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(pub Probability);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Probability::percent(v)
            .map(Percent)
            .map_err(|_| de::Error::custom(format!("{v} is not a percentage between 0 and 100")))
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "A percentage, 0 to 100."
        })
    }
}

/// A bandwidth written with its unit: `"10mbit"`, `"512kbit"`, `"1gbit"`,
/// `"1.5mbit"`, `"64000bit"`, or as [`Bandwidth`]'s `Display` prints it
/// (`"10 Mbit/s"`, `"1.234567 Mbit/s"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(pub Bandwidth);

impl Rate {
    /// Parses a rate: a decimal number, an optional space, a unit (`bit`,
    /// `kbit`, `mbit`, `gbit`, any case, `/s` optional). The number of bits
    /// per second is exact (no floating point), rounded to a whole bit, at
    /// least 1 and at most `u64::MAX`. `bps` (and `kbps`...) is refused:
    /// tc and netem read it as bytes per second, 8 times faster than the
    /// same number of bits.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.strip_suffix("/s").unwrap_or(&t);
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let not_a_rate =
            || format!("`{text}` is not a rate (write `10mbit`, `512kbit` or `1gbit`)");
        let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
        if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
            return Err(not_a_rate());
        }
        let exponent = match unit.trim_start() {
            "bit" => 0,
            "kbit" => 3,
            "mbit" => 6,
            "gbit" => 9,
            bytes @ ("bps" | "kbps" | "mbps" | "gbps") => {
                let bits = bytes.replace("bps", "bit");
                return Err(format!(
                    "`{text}`: the unit must be `bit`, `kbit`, `mbit` or `gbit`; tc reads \
                     `{bytes}` as bytes per second: write 8 times the number in `{bits}`"
                ));
            }
            _ => {
                return Err(format!(
                    "`{text}`: the unit must be `bit`, `kbit`, `mbit` or `gbit`"
                ))
            }
        };
        let bps = scaled(whole, frac, exponent)
            .and_then(|b| u64::try_from(b).ok())
            .ok_or_else(|| format!("`{text}` is out of range (at most {} bit/s)", u64::MAX))?;
        Bandwidth::bits(bps).map(Rate).map_err(|e| e.to_string())
    }
}

/// The decimal number `whole.frac` (ASCII digits) times 10^`exponent`,
/// rounded half up to a whole number; `None` when it does not fit in a
/// `u128`.
fn scaled(whole: &str, frac: &str, exponent: u32) -> Option<u128> {
    let frac = frac.trim_end_matches('0');
    let digits = format!("{whole}{frac}");
    let digits = digits.trim_start_matches('0');
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let frac_len = u32::try_from(frac.len()).ok()?;
    if frac_len <= exponent {
        mantissa.checked_mul(10u128.checked_pow(exponent - frac_len)?)
    } else {
        let Some(divisor) = 10u128.checked_pow(frac_len - exponent) else {
            // More decimals than a u128 holds: under half a bit.
            return Some(0);
        };
        Some(mantissa / divisor + u128::from(mantissa % divisor >= divisor.div_ceil(2)))
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate such as \"10mbit\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                Rate::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// What [`Rate::parse`] accepts, as the schema's pattern (less the range).
const RATE_PATTERN: &str = r"^\s*([0-9]+\.?[0-9]*|\.[0-9]+)\s*[kKmMgG]?[bB][iI][tT](/[sS])?\s*$";

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": RATE_PATTERN,
            "description": "A rate: a number and `bit`, `kbit`, `mbit` or `gbit` (\"10mbit\", \"10 Mbit/s\")."
        })
    }
}

/// The shape of the jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DistributionSpec {
    /// Evenly spread over ± jitter.
    Uniform,
    /// Normal, jitter the standard deviation.
    Normal,
    /// Pareto: a long late tail.
    Pareto,
}

/// Loss in bursts (Gilbert-Elliott), in percent.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BurstsSpec {
    /// Chance per frame of entering the bad state.
    pub to_bad: Percent,
    /// Chance per frame of leaving it.
    pub to_good: Percent,
    /// Loss in the good state (0 unless set).
    pub loss_in_good: Option<Percent>,
    /// Loss in the bad state (100 unless set).
    pub loss_in_bad: Option<Percent>,
}

/// What one direction of a wire does to frames; every key is optional.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpairSpec {
    /// A fixed delay.
    pub delay: Option<Dur>,
    /// A random variation of the delay.
    pub jitter: Option<Dur>,
    /// The jitter's shape (`normal` unless set).
    pub distribution: Option<DistributionSpec>,
    /// Each frame lost with this chance, in percent.
    pub loss: Option<Percent>,
    /// Loss in bursts instead.
    pub loss_bursts: Option<BurstsSpec>,
    /// Frames skipping the delay, in percent (needs a delay).
    pub reorder: Option<Percent>,
    /// Frames delivered twice, in percent.
    pub duplicate: Option<Percent>,
    /// Frames with a bit flipped, in percent.
    pub corrupt: Option<Percent>,
    /// A rate limit.
    pub rate: Option<Rate>,
    /// Bytes that may pass at once after an idle spell.
    pub burst: Option<usize>,
    /// Frames the rate stage may queue (1,000 unless set).
    pub queue_limit: Option<usize>,
    /// Frames whose IP packet is larger are dropped.
    pub mtu: Option<u32>,
}

impl ImpairSpec {
    /// The model (checked when it is applied: `Impairment::validate`).
    pub fn model(&self) -> Impairment {
        let mut m = Impairment::new();
        if let Some(d) = self.delay {
            m = m.delay(d.0);
        }
        if let Some(j) = self.jitter {
            let shape = match self.distribution.unwrap_or(DistributionSpec::Normal) {
                DistributionSpec::Uniform => Distribution::Uniform,
                DistributionSpec::Normal => Distribution::Normal,
                DistributionSpec::Pareto => Distribution::Pareto,
            };
            m = m.jitter(j.0, shape);
        }
        if let Some(p) = self.loss {
            m = m.loss(p.0);
        }
        if let Some(b) = self.loss_bursts {
            m = m.loss_bursts(GilbertElliott {
                to_bad: b.to_bad.0,
                to_good: b.to_good.0,
                loss_in_good: b.loss_in_good.map_or(Probability::NEVER, |p| p.0),
                loss_in_bad: b.loss_in_bad.map_or(Probability::ALWAYS, |p| p.0),
            });
        }
        for (p, set) in [
            (
                self.reorder,
                Impairment::reorder as fn(Impairment, Probability) -> Impairment,
            ),
            (self.duplicate, Impairment::duplicate),
            (self.corrupt, Impairment::corrupt),
        ] {
            if let Some(p) = p {
                m = set(m, p.0);
            }
        }
        if let Some(r) = self.rate {
            m = m.rate(r.0);
        }
        if let Some(b) = self.burst {
            m = m.burst(b);
        }
        if let Some(q) = self.queue_limit {
            m = m.queue_limit(q);
        }
        if let Some(mtu) = self.mtu {
            m = m.mtu(mtu);
        }
        m
    }
}

/// A preset link (see `netns_test::wire::Profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresetSpec {
    /// `Profile::lte`.
    Lte,
    /// `Profile::slow_mobile`.
    SlowMobile,
    /// `Profile::dsl`.
    Dsl,
    /// `Profile::satellite`.
    Satellite,
    /// `Profile::lossy_wifi`.
    LossyWifi,
}

impl PresetSpec {
    /// The profile.
    pub fn profile(self) -> Profile {
        match self {
            PresetSpec::Lte => Profile::lte(),
            PresetSpec::SlowMobile => Profile::slow_mobile(),
            PresetSpec::Dsl => Profile::dsl(),
            PresetSpec::Satellite => Profile::satellite(),
            PresetSpec::LossyWifi => Profile::lossy_wifi(),
        }
    }
}

/// Which way along the link `a` -- `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DirectionSpec {
    /// From `a` to `b`.
    Forward,
    /// From `b` to `a`.
    Backward,
    /// Both ways.
    #[default]
    Both,
}

impl DirectionSpec {
    /// The library's direction.
    pub fn direction(self) -> crate::wire::Direction {
        match self {
            DirectionSpec::Forward => crate::wire::Direction::Forward,
            DirectionSpec::Backward => crate::wire::Direction::Backward,
            DirectionSpec::Both => crate::wire::Direction::Both,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_units() {
        assert_eq!(
            Rate::parse("10mbit").unwrap().0.bits_per_second(),
            10_000_000
        );
        assert_eq!(
            Rate::parse("1.5Mbit/s").unwrap().0.bits_per_second(),
            1_500_000
        );
        assert_eq!(Rate::parse("512kbit").unwrap().0.bits_per_second(), 512_000);
        assert!(Rate::parse("10").unwrap_err().contains("unit"));
        for bytes in ["125000bps", "125 kbps", "1Mbps", "1gbps/s"] {
            let e = Rate::parse(bytes).unwrap_err();
            assert!(e.contains("as bytes per second"), "{bytes}: {e}");
        }
        assert!(Rate::parse("1mbps").unwrap_err().contains("in `mbit`"));
        assert!(Rate::parse("0mbit").is_err());
        assert!(Rate::parse("1.2.3mbit").is_err());
        assert!(Rate::parse(".mbit").is_err());
        assert_eq!(Rate::parse("1.5bit").unwrap().0.bits_per_second(), 2);
        assert!(Rate::parse("18446744073709551616bit")
            .unwrap_err()
            .contains("out of range"));
    }

    #[test]
    fn a_rate_reads_back_what_bandwidth_prints() {
        let mut values = vec![
            1,
            999,
            1_000,
            1_001,
            1_500_000,
            1_234_567,
            999_999_999,
            u64::MAX,
        ];
        for exp in 0..20 {
            let p = 10u64.pow(exp);
            values.extend([
                p,
                p + 1,
                p.saturating_mul(7) / 3,
                p.saturating_sub(1).max(1),
            ]);
        }
        let mut rng = crate::vocab::Rng::new(7);
        values.extend(
            (0..2000)
                .map(|_| rng.next_u64() >> rng.below(64))
                .filter(|v| *v > 0),
        );
        for bps in values {
            let b = Bandwidth::bits(bps).unwrap();
            let text = b.to_string();
            assert_eq!(Rate::parse(&text), Ok(Rate(b)), "{bps} printed as {text}");
        }
    }

    #[test]
    fn a_spec_becomes_its_model() {
        let spec: ImpairSpec =
            toml::from_str("delay = \"50ms\"\njitter = \"5ms\"\nloss = 20\nrate = \"10mbit\"")
                .unwrap();
        assert_eq!(
            spec.model().to_string(),
            "delay 50ms ± 5ms normal, loss 20%, rate 10 Mbit/s (queue 1000)"
        );
        let bad = toml::from_str::<ImpairSpec>("loss = 120").unwrap_err();
        assert!(bad.to_string().contains("120 is not a percentage"), "{bad}");
    }

    #[test]
    fn the_schema_pattern_accepts_what_the_parser_does() {
        let pattern = regex::Regex::new(RATE_PATTERN).unwrap();
        let samples = [
            "10mbit",
            "10 Mbit/s",
            "10MBIT",
            "512kbit",
            "1gbit",
            "64000bit",
            "1.5mbit",
            "1.mbit",
            ".5mbit",
            " 10mbit ",
            "10  kbit/S",
            "10mbps",
            "10",
            "mbit",
            ".mbit",
            "1.2.3mbit",
            "10mbit /s",
            "10 tbit",
            "10mbits",
            "-1mbit",
            "",
        ];
        for text in samples {
            assert_eq!(
                Rate::parse(text).is_ok(),
                pattern.is_match(text),
                "{text:?}: the parser and the schema disagree"
            );
        }
    }
}
