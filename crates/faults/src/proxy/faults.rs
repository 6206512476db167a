//! The faults a proxy applies, and what they mean for one direction of one connection.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::Rng;

/// Which way bytes flow through a proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the upstream (requests).
    ToUpstream,
    /// From the upstream to the client (responses, and what a server streams to a replica
    /// that dialed it).
    ToClient,
    /// Both ways.
    Both,
}

impl Direction {
    pub(crate) fn to_upstream(self) -> bool {
        matches!(self, Direction::ToUpstream | Direction::Both)
    }

    pub(crate) fn to_client(self) -> bool {
        matches!(self, Direction::ToClient | Direction::Both)
    }
}

/// Every fault a proxy can apply. The default applies none: bytes are forwarded as they come.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Added to every round trip: bytes from the upstream to the client are delivered this
    /// much later than they arrived.
    pub latency: Duration,
    /// Each chunk's delay is `latency` plus or minus up to this much, uniformly, never below
    /// zero and never overtaking the chunk before it.
    pub jitter: Duration,
    /// Bytes to the upstream are held (not read, not delivered) until this is cleared.
    pub hold_to_upstream: bool,
    /// Bytes to the client are held until this is cleared.
    pub hold_to_client: bool,
    /// Connections from these sources (see [`ProxyConfig::source_header`]) are held both ways;
    /// while the set is not empty, so are connections whose source is unknown.
    ///
    /// [`ProxyConfig::source_header`]: crate::ProxyConfig::source_header
    pub held_sources: BTreeSet<String>,
    /// At most this many bytes per second in each direction of each connection.
    pub bandwidth: Option<u64>,
}

/// What the faults mean for one direction of one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flow {
    pub hold: bool,
    pub latency: Duration,
    pub jitter: Duration,
    pub bandwidth: Option<u64>,
}

impl Flow {
    /// Nothing to do but copy: the proxy's fast path.
    pub fn is_plain(&self) -> bool {
        !self.hold && self.latency.is_zero() && self.jitter.is_zero() && self.bandwidth.is_none()
    }

    /// The delay for the next chunk.
    pub fn delay(&self, rng: &mut impl Rng) -> Duration {
        if self.jitter.is_zero() {
            return self.latency;
        }
        let jitter = self.jitter.as_nanos() as i128;
        let offset = rng.random_range(-jitter..=jitter);
        let nanos = (self.latency.as_nanos() as i128 + offset).max(0);
        Duration::from_nanos(nanos as u64)
    }
}

impl Faults {
    /// Whether no fault is set.
    pub fn is_clear(&self) -> bool {
        *self == Faults::default()
    }

    pub(crate) fn flow(&self, direction: Direction, source: Option<&str>) -> Flow {
        let held_source = !self.held_sources.is_empty()
            && source.is_none_or(|source| self.held_sources.contains(source));
        let hold = held_source
            || (direction.to_upstream() && self.hold_to_upstream)
            || (direction.to_client() && self.hold_to_client);
        let (latency, jitter) = if direction == Direction::ToClient {
            (self.latency, self.jitter)
        } else {
            (Duration::ZERO, Duration::ZERO)
        };
        Flow {
            hold,
            latency,
            jitter,
            bandwidth: self.bandwidth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn no_fault_is_the_plain_path_both_ways() {
        let faults = Faults::default();
        assert!(faults.is_clear());
        for direction in [Direction::ToUpstream, Direction::ToClient] {
            assert!(faults.flow(direction, None).is_plain());
            assert!(faults.flow(direction, Some("a")).is_plain());
        }
    }

    #[test]
    fn latency_is_added_on_the_way_back_only() {
        let faults = Faults {
            latency: Duration::from_millis(20),
            ..Faults::default()
        };
        assert!(faults.flow(Direction::ToUpstream, None).is_plain());
        let back = faults.flow(Direction::ToClient, None);
        assert_eq!(back.latency, Duration::from_millis(20));
        assert!(!back.hold);
    }

    #[test]
    fn jitter_stays_within_its_bounds_and_never_below_zero() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let flow = Flow {
            hold: false,
            latency: Duration::from_millis(10),
            jitter: Duration::from_millis(15),
            bandwidth: None,
        };
        let delays: Vec<Duration> = (0..1000).map(|_| flow.delay(&mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(25)));
        assert!(delays.contains(&Duration::ZERO), "clamped at zero");
        assert!(delays.iter().any(|d| *d > Duration::from_millis(20)));
    }

    #[test]
    fn held_sources_hold_their_connections_and_unknown_ones() {
        let faults = Faults {
            held_sources: BTreeSet::from(["http://127.0.0.1:1".to_string()]),
            ..Faults::default()
        };
        assert!(
            faults
                .flow(Direction::ToClient, Some("http://127.0.0.1:1"))
                .hold
        );
        assert!(
            faults
                .flow(Direction::ToUpstream, Some("http://127.0.0.1:1"))
                .hold
        );
        assert!(faults.flow(Direction::ToUpstream, None).hold);
        assert!(
            !faults
                .flow(Direction::ToUpstream, Some("http://127.0.0.1:2"))
                .hold
        );
    }

    #[test]
    fn one_way_blackholes_hold_one_direction() {
        let faults = Faults {
            hold_to_upstream: true,
            ..Faults::default()
        };
        assert!(faults.flow(Direction::ToUpstream, None).hold);
        assert!(!faults.flow(Direction::ToClient, None).hold);
    }
}
