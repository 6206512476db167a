//! Value parsers for the command's options: every duration, count and size is checked when the
//! command line is parsed, against a range that makes sense, so that an extreme value is a
//! clear usage error (exit 2, naming the range) rather than an overflow deep in a run.

use std::time::Duration;

/// The longest wait any option accepts: a year. Anything longer is a typo, and adding it to a
/// clock overflows.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The most keys a run spreads over: every key gets a final read and its own partition.
pub(crate) const MAX_KEYS: usize = 100_000;
/// The most concurrent clients of a run (each a task, and for `exec` a process).
pub(crate) const MAX_CLIENTS: usize = 10_000;
/// The most operations a run is asked for.
pub(crate) const MAX_OPS: u64 = 1_000_000_000_000;
/// The fastest rate a run is asked for, per second.
const MAX_RATE: f64 = 1e9;
/// The smallest and largest answer bound (`--max-answer-bytes`).
const MIN_ANSWER_BYTES: u64 = 64;
const MAX_ANSWER_BYTES: u64 = 1 << 30;
/// The largest `--max-memory`, in MiB (16 TiB).
const MAX_MEMORY_MIB: usize = 1 << 24;

/// A duration as humantime writes it (`30s`, `2m`, `150ms`), more than zero and at most
/// [`LONGEST_WAIT`].
pub(crate) fn wait(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() || duration > LONGEST_WAIT {
        return Err("must be longer than 0 and at most 365 days".to_string());
    }
    Ok(duration)
}

/// A duration from 0 (none) to a day: added delays such as the proxy's latency.
pub(crate) fn delay(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration > Duration::from_secs(24 * 3600) {
        return Err("must be at most 1 day".to_string());
    }
    Ok(duration)
}

/// A number of seconds (`--timeout 2.5`): more than 0 and at most 365 days.
pub(crate) fn seconds(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= LONGEST_WAIT.as_secs_f64()) {
        return Err(format!(
            "must be a number of seconds more than 0 and at most {} (365 days)",
            LONGEST_WAIT.as_secs()
        ));
    }
    Ok(seconds)
}

fn integer<T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy>(
    text: &str,
    min: T,
    max: T,
) -> Result<T, String> {
    let range = || format!("must be a whole number from {min} to {max}");
    let value: T = text.trim().parse().map_err(|_| range())?;
    if value < min || value > max {
        return Err(range());
    }
    Ok(value)
}

/// `--keys`: 1 to [`MAX_KEYS`].
pub(crate) fn keys(text: &str) -> Result<usize, String> {
    integer(text, 1, MAX_KEYS)
}

/// `--clients` of a run: 1 to [`MAX_CLIENTS`].
pub(crate) fn clients(text: &str) -> Result<usize, String> {
    integer(text, 1, MAX_CLIENTS)
}

/// `--clients` of the demo: a race needs 2; at most 1000.
pub(crate) fn demo_clients(text: &str) -> Result<usize, String> {
    integer(text, 2, 1000)
}

/// `--ops` of a run: 1 to [`MAX_OPS`].
pub(crate) fn ops(text: &str) -> Result<u64, String> {
    integer(text, 1, MAX_OPS)
}

/// `--ops` of the demo, which keeps each scenario's history in memory: 1 to a million.
pub(crate) fn demo_ops(text: &str) -> Result<u64, String> {
    integer(text, 1, 1_000_000)
}

/// The largest `--values`: values are drawn from 0 to N-1 and must fit the history's integers.
pub(crate) const MAX_VALUES: u64 = 1 << 53;

/// `--values`: 1 to [`MAX_VALUES`].
pub(crate) fn values(text: &str) -> Result<u64, String> {
    integer(text, 1, MAX_VALUES)
}

/// The phases of `--phase`, as one value (a list of them is not several values of the option).
#[derive(Clone, Debug)]
pub(crate) struct Phases(pub Vec<photofinish::runner::Phase>);

/// `--phase NAME:DURATION,...`: each duration as [`wait`] reads it.
pub(crate) fn phases(text: &str) -> Result<Phases, String> {
    photofinish::runner::Phase::parse_list(text, wait).map(Phases)
}

/// `--max-memory`, in MiB (0 answers "unknown" at once, which tests rely on).
pub(crate) fn memory_mib(text: &str) -> Result<usize, String> {
    integer(text, 0, MAX_MEMORY_MIB)
}

/// `--rate`: operations per second, at least 0.001 and at most a billion.
pub(crate) fn rate(text: &str) -> Result<f64, String> {
    let range = || format!("must be a number of operations per second from 0.001 to {MAX_RATE}");
    let rate: f64 = text.trim().parse().map_err(|_| range())?;
    if !(0.001..=MAX_RATE).contains(&rate) {
        return Err(range());
    }
    Ok(rate)
}

/// A size in bytes: a whole number with an optional unit `B`, `KiB`, `MiB` or `GiB` (`KB`,
/// `MB`, `GB`, `K`, `M`, `G` mean the same powers of 1024), from 64 B to 1 GiB.
pub(crate) fn answer_bytes(text: &str) -> Result<usize, String> {
    let range = || {
        format!(
            "must be a size from {MIN_ANSWER_BYTES} bytes to 1 GiB, such as 65536, 512KiB or 1MiB"
        )
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(range()),
    };
    let bytes = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|n| (MIN_ANSWER_BYTES..=MAX_ANSWER_BYTES).contains(n))
        .ok_or_else(range)?;
    usize::try_from(bytes).map_err(|_| range())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_positive_and_at_most_a_year() {
        assert_eq!(wait("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(wait("365days"), Ok(LONGEST_WAIT));
        assert!(wait("0s").unwrap_err().contains("365 days"));
        assert!(wait("18446744073709551615s").is_err());
        assert!(wait("366days").is_err());
        assert!(wait("soon").is_err());
        assert_eq!(delay("0s"), Ok(Duration::ZERO));
        assert!(delay("2days").is_err());
    }

    #[test]
    fn seconds_reject_the_extremes() {
        assert_eq!(seconds("2.5"), Ok(2.5));
        assert_eq!(seconds("0.000001"), Ok(0.000001));
        for bad in ["0", "-1", "1e20", "nan", "inf", "x"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_name_their_range() {
        assert_eq!(keys("10"), Ok(10));
        assert_eq!(
            keys("18446744073709551615"),
            Err("must be a whole number from 1 to 100000".to_string())
        );
        assert!(keys("1000000000").is_err());
        assert!(keys("0").is_err());
        assert!(clients("0").is_err());
        assert!(ops("0").is_err());
        assert_eq!(ops("1000"), Ok(1000));
        assert!(demo_clients("1").is_err());
        assert_eq!(memory_mib("0"), Ok(0));
        assert!(memory_mib("18446744073709551615").is_err());
        assert!(rate("0").is_err());
        assert!(rate("nan").is_err());
        assert_eq!(rate("100"), Ok(100.0));
        assert_eq!(values("3"), Ok(3));
        assert!(values("0").is_err());
        assert!(values("9007199254740993").is_err());
    }

    #[test]
    fn phases_name_their_durations() {
        let parsed = phases("warmup:5s, steady:1m").unwrap().0;
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].duration, Duration::from_secs(60));
        assert!(phases("warmup:0s").unwrap_err().contains("365 days"));
        assert!(phases("warmup:1s,warmup:2s").unwrap_err().contains("twice"));
        assert!(phases("warm up:1s").is_err());
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(answer_bytes("1MiB"), Ok(1 << 20));
        assert_eq!(answer_bytes("512 KiB"), Ok(512 << 10));
        assert_eq!(answer_bytes("65536"), Ok(65536));
        assert_eq!(answer_bytes("1G"), Ok(1 << 30));
        for bad in [
            "0",
            "63",
            "2GiB",
            "1TiB",
            "-5",
            "",
            "MiB",
            "99999999999999999999G",
        ] {
            assert!(answer_bytes(bad).is_err(), "{bad}");
        }
    }
}
