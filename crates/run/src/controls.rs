//! Workload controls: which operations a workload issues and how often (the mix), which values
//! its writes draw from, and how its operations spread over the keys.
//!
//! Each control is parsed from the text a user types on the command line, checked against the
//! workload it controls (a mix names only operations the workload has), and recorded in the
//! history's header so that a history says how it was made.

use std::fmt;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};

use crate::workload::WorkloadKind;

/// The most any one operation weighs in a mix.
pub const MAX_WEIGHT: u32 = 1_000_000;

/// How often each of a workload's operations is drawn: `read=2,write=1,cas=1` issues twice as
/// many reads as writes, and as many cas as writes. An operation the mix does not name is never
/// drawn. For `multi-register` the names are those of the micro-operations inside each
/// transaction (`read`, `write`).
///
/// ```
/// use photofinish_run::controls::Mix;
/// use photofinish_run::WorkloadKind;
///
/// let mix = Mix::parse(WorkloadKind::CasRegister, "read=2,write=1,cas=1").unwrap();
/// assert_eq!(mix.weight("cas"), 1);
/// assert_eq!(mix.to_string(), "read=2,write=1,cas=1");
/// let typo = Mix::parse(WorkloadKind::Register, "read=1,wrte=1").unwrap_err();
/// assert!(typo.contains("expected one of read, write"), "{typo}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    /// Every operation of the workload, in the workload's order, with its weight.
    weights: Vec<(&'static str, u32)>,
}

impl Mix {
    /// The mix a workload uses unless told otherwise.
    pub fn default_for(kind: WorkloadKind) -> Mix {
        Mix {
            weights: kind.operations().to_vec(),
        }
    }

    /// Parses `name=weight,...` for `kind`: every name one of the workload's operations, each
    /// at most once, weights whole numbers from 0 to [`MAX_WEIGHT`], not all 0.
    pub fn parse(kind: WorkloadKind, text: &str) -> Result<Mix, String> {
        if !kind.mixable() {
            return Err(format!(
                "the {kind} workload's operations follow from one another ({}): --mix does not apply",
                names(kind).join(", ")
            ));
        }
        let mut weights: Vec<(&'static str, u32)> =
            kind.operations().iter().map(|&(f, _)| (f, 0)).collect();
        let mut named = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, weight)) = part.split_once('=') else {
                return Err(format!("`{part}` is not name=weight, as in read=2,write=1"));
            };
            let name = name.trim();
            let Some(slot) = weights.iter_mut().find(|(f, _)| *f == name) else {
                return Err(format!(
                    "the {kind} workload has no operation `{name}`: expected one of {}",
                    names(kind).join(", ")
                ));
            };
            if named.contains(&name) {
                return Err(format!("`{name}` is given twice"));
            }
            named.push(name);
            slot.1 = weight
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|w| *w <= MAX_WEIGHT)
                .ok_or_else(|| {
                    format!("the weight of `{name}` must be a whole number from 0 to {MAX_WEIGHT}")
                })?;
        }
        if weights.iter().all(|(_, w)| *w == 0) {
            return Err(format!(
                "the mix draws nothing: give at least one of {} a weight above 0",
                names(kind).join(", ")
            ));
        }
        Ok(Mix { weights })
    }

    /// The weight of operation `f` (0 if the mix never draws it).
    pub fn weight(&self, f: &str) -> u32 {
        self.weights
            .iter()
            .find(|(name, _)| *name == f)
            .map_or(0, |(_, w)| *w)
    }

    /// The operation that `roll`, a number in [0, 1), falls on: each takes a share of [0, 1) in
    /// proportion to its weight, in the workload's order.
    pub fn pick(&self, roll: f64) -> &'static str {
        let total: u64 = self.weights.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut below = 0u64;
        let mut last = self.weights[0].0;
        for &(f, w) in &self.weights {
            if w == 0 {
                continue;
            }
            below += u64::from(w);
            last = f;
            if roll < below as f64 / total as f64 {
                return f;
            }
        }
        last
    }

    /// The weights as the history's header records them.
    pub fn to_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .weights
            .iter()
            .map(|(f, w)| (f.to_string(), (*w).into()))
            .collect();
        serde_json::Value::Object(map)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .weights
            .iter()
            .map(|(name, w)| format!("{name}={w}"))
            .collect();
        f.write_str(&parts.join(","))
    }
}

fn names(kind: WorkloadKind) -> Vec<&'static str> {
    kind.operations().iter().map(|(f, _)| *f).collect()
}

/// How operations spread over the keys.
///
/// ```
/// use photofinish_run::controls::KeyDist;
///
/// assert_eq!("uniform".parse::<KeyDist>(), Ok(KeyDist::Uniform));
/// assert_eq!("zipf".parse::<KeyDist>(), Ok(KeyDist::Zipf(1.0)));
/// assert_eq!("zipf:1.5".parse::<KeyDist>().unwrap().to_string(), "zipf:1.5");
/// assert!("zipf:-1".parse::<KeyDist>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum KeyDist {
    /// Every key equally often.
    #[default]
    Uniform,
    /// Key `k` (from 0) in proportion to 1 / (k + 1)^s: a few hot keys, as real traffic has.
    Zipf(f64),
}

/// The largest Zipf exponent accepted: beyond it nearly every operation hits key 0.
pub const MAX_ZIPF_EXPONENT: f64 = 10.0;

impl std::str::FromStr for KeyDist {
    type Err = String;

    fn from_str(text: &str) -> Result<KeyDist, String> {
        let text = text.trim();
        let bad_exponent = || {
            format!("the Zipf exponent must be a number above 0 and at most {MAX_ZIPF_EXPONENT}, as in zipf:1.2")
        };
        match text.split_once(':') {
            None if text == "uniform" => Ok(KeyDist::Uniform),
            None if text == "zipf" => Ok(KeyDist::Zipf(1.0)),
            Some(("zipf", s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| *s > 0.0 && *s <= MAX_ZIPF_EXPONENT)
                .map(KeyDist::Zipf)
                .ok_or_else(bad_exponent),
            _ => Err(format!(
                "unknown key distribution `{text}`: expected uniform, zipf or zipf:EXPONENT"
            )),
        }
    }
}

impl fmt::Display for KeyDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDist::Uniform => f.write_str("uniform"),
            KeyDist::Zipf(s) => write!(f, "zipf:{s}"),
        }
    }
}

/// Draws key indexes in `0..keys` by a [`KeyDist`].
#[derive(Clone, Debug)]
pub(crate) enum KeyDraw {
    Uniform(usize),
    Zipf(Zipf<f64>, usize),
}

impl KeyDraw {
    pub(crate) fn new(dist: KeyDist, keys: usize) -> KeyDraw {
        let keys = keys.max(1);
        match dist {
            KeyDist::Zipf(s) => match Zipf::new(keys as f64, s) {
                Ok(zipf) => KeyDraw::Zipf(zipf, keys),
                // Only a non-positive exponent or no keys is refused, and parsing rules both out.
                Err(_) => KeyDraw::Uniform(keys),
            },
            KeyDist::Uniform => KeyDraw::Uniform(keys),
        }
    }

    pub(crate) fn draw(&self, rng: &mut ChaCha8Rng) -> usize {
        match self {
            KeyDraw::Uniform(keys) => rng.random_range(0..*keys),
            // Zipf draws a rank from 1 to n.
            KeyDraw::Zipf(zipf, keys) => (zipf.sample(rng) as usize).clamp(1, *keys) - 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_default_mix_keeps_the_workloads_shares() {
        let mix = Mix::default_for(WorkloadKind::CasRegister);
        assert_eq!(mix.pick(0.39), "read");
        assert_eq!(mix.pick(0.4), "write");
        assert_eq!(mix.pick(0.59), "write");
        assert_eq!(mix.pick(0.6), "cas");
        assert_eq!(mix.pick(0.9999), "cas");
    }

    #[test]
    fn operations_left_out_are_never_drawn() {
        let mix = Mix::parse(WorkloadKind::CasRegister, "cas=3").unwrap();
        for i in 0..100 {
            assert_eq!(mix.pick(i as f64 / 100.0), "cas");
        }
        let mix = Mix::parse(WorkloadKind::Register, "read=0,write=1").unwrap();
        assert_eq!(mix.pick(0.0), "write");
    }

    #[test]
    fn bad_mixes_say_what_is_wrong() {
        let err = |kind, text| Mix::parse(kind, text).unwrap_err();
        assert!(err(WorkloadKind::Counter, "read=1,read=2").contains("twice"));
        assert!(err(WorkloadKind::Counter, "read").contains("name=weight"));
        assert!(err(WorkloadKind::Counter, "read=-1").contains("whole number"));
        assert!(err(WorkloadKind::Counter, "read=0,add=0").contains("draws nothing"));
        assert!(err(WorkloadKind::Mutex, "acquire=1").contains("does not apply"));
        assert!(err(WorkloadKind::Kv, "put=1,cas=1").contains("get, put, append"));
    }

    #[test]
    fn zipf_favours_the_first_keys_and_stays_in_range() {
        let draw = KeyDraw::new(KeyDist::Zipf(1.2), 10);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[draw.draw(&mut rng)] += 1;
        }
        assert!(counts[0] > counts[1] && counts[1] > counts[9], "{counts:?}");
        assert!(counts[9] > 0, "{counts:?}");
    }
}
