//! Small value types of the file format: durations written as text
//! (`"500ms"`, `"5s"`, `"2m"`) and "one or many" lists.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A duration written as a number and a unit: `"250ms"`, `"5s"`, `"1.5s"`,
/// `"2m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl Dur {
    /// Parses `"250ms"`, `"5s"`, `"1.5s"`, `"2m"`.
    pub fn parse(text: &str) -> Result<Dur, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let value: f64 = num
            .parse()
            .map_err(|_| format!("`{text}` is not a duration (write `500ms`, `5s` or `2m`)"))?;
        let secs = match unit.trim() {
            "ms" => value / 1000.0,
            "s" => value,
            "m" => value * 60.0,
            _ => {
                return Err(format!(
                    "`{text}` is not a duration: the unit must be `ms`, `s` or `m`"
                ))
            }
        };
        if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
            return Err(format!("`{text}` is out of range (0 to 24 hours)"));
        }
        Ok(Dur(Duration::from_secs_f64(secs)))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"500ms\", \"5s\" or \"2m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                Dur::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// What [`Dur::parse`] accepts, as the schema's pattern (less the range).
const DURATION_PATTERN: &str = r"^\s*([0-9]+\.?[0-9]*|\.[0-9]+)\s*(ms|s|m)\s*$";

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "A duration: a number and a unit, `ms`, `s` or `m` (\"500ms\", \"5s\", \"2m\")."
        })
    }
}

/// One value or a list of them: `"h1"` or `["h1", "h2"]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// One value.
    One(T),
    /// Several.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v).iter(),
            OneOrMany::Many(v) => v.iter(),
        }
    }
}

impl<T: Clone> OneOrMany<T> {
    /// The values, in order.
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(Dur::parse("250ms").unwrap().0, Duration::from_millis(250));
        assert_eq!(Dur::parse("1.5s").unwrap().0, Duration::from_millis(1500));
        assert_eq!(Dur::parse("2m").unwrap().0, Duration::from_secs(120));
        assert!(Dur::parse("5").unwrap_err().contains("unit"));
        assert!(Dur::parse("fast").is_err());
        assert!(Dur::parse("48h").is_err());
    }

    #[test]
    fn the_schema_pattern_accepts_what_the_parser_does() {
        let pattern = regex::Regex::new(DURATION_PATTERN).unwrap();
        let samples = [
            "250ms", "5s", "1.5s", "2m", " 5s ", "5 s", "1.s", ".5s", "0ms", "5", "5S", "5 ms x",
            "1.2.3s", ".s", "s", "-1s", "+1s", "1e3s", "5h", "5sec", "",
        ];
        for text in samples {
            assert_eq!(
                Dur::parse(text).is_ok(),
                pattern.is_match(text),
                "{text:?}: the parser and the schema disagree"
            );
        }
    }
}
