//! The anomalies the checkers name, after Adya ("Weak Consistency", 1999) and Elle (Kingsbury
//! and Alvaro, VLDB 2020).

use std::fmt;

use serde::{Serialize, Serializer};

/// The data-dependency shape of a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CycleClass {
    /// Write cycle: write-write edges only (dirty write).
    G0,
    /// Circular information flow: write-write and write-read edges, at least one write-read.
    G1c,
    /// Exactly one anti-dependency (read skew, and lost update's usual form).
    GSingle,
    /// Two or more anti-dependencies, none adjacent: forbidden by snapshot isolation.
    GNonadjacent,
    /// Two or more anti-dependencies, some adjacent (write skew): allowed by snapshot
    /// isolation, forbidden by repeatable read and serializability.
    G2Item,
}

/// What besides data dependencies a cycle needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// Data dependencies alone.
    Data,
    /// Also the order of transactions within a process.
    Process,
    /// Also real-time order (one transaction completed before another began).
    Realtime,
}

/// A kind of anomaly. Kinds sort cycles first (data, then process, then real-time variants,
/// each from G0 to G2-item), then the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnomalyKind {
    /// A dependency cycle.
    Cycle(CycleClass, Variant),
    /// Aborted read: a committed transaction read a value written by one that failed.
    G1a,
    /// Intermediate read: a committed transaction read a value that its writer overwrote
    /// within the same transaction.
    G1b,
    /// A transaction's read does not show its own earlier writes.
    Internal,
    /// A transaction read the same key twice (with no write of its own between) and saw two
    /// different versions: a fuzzy read, which read committed allows.
    NonRepeatableRead,
    /// A transaction read a value it writes only later.
    FutureRead,
    /// A list read holds the same element twice, though every element was appended once.
    DuplicateElements,
    /// Two reads of a key are not prefixes of one another: no single order of appends explains
    /// both.
    IncompatibleOrder,
    /// A read returned a value that no transaction wrote.
    GarbageRead,
    /// Two committed transactions read the same version of a key and both wrote the key.
    LostUpdate,
    /// bank: a read's balances do not add up to the total.
    WrongTotal,
    /// bank: a read saw a negative balance.
    NegativeBalance,
    /// bank: a read saw an account that does not exist.
    UnexpectedKey,
    /// bank: a read saw an account without a balance.
    NilBalance,
    /// long-fork: two reads saw the writes to a group of keys in incompatible orders.
    LongFork,
    /// set-full: an acknowledged (or once seen) element that later reads stopped seeing.
    Lost,
    /// set-full: an element missing from reads that began after it was known to be added.
    Stale,
    /// set-full: an element read that nobody tried to add.
    UnexpectedElement,
    /// set-full: an element seen twice in one read.
    DuplicateElement,
}

impl CycleClass {
    pub fn name(self) -> &'static str {
        match self {
            CycleClass::G0 => "G0",
            CycleClass::G1c => "G1c",
            CycleClass::GSingle => "G-single",
            CycleClass::GNonadjacent => "G-nonadjacent",
            CycleClass::G2Item => "G2-item",
        }
    }
}

impl AnomalyKind {
    pub const ALL_CYCLES: [AnomalyKind; 15] = {
        use CycleClass::*;
        use Variant::*;
        let c = AnomalyKind::Cycle;
        [
            c(G0, Data),
            c(G1c, Data),
            c(GSingle, Data),
            c(GNonadjacent, Data),
            c(G2Item, Data),
            c(G0, Process),
            c(G1c, Process),
            c(GSingle, Process),
            c(GNonadjacent, Process),
            c(G2Item, Process),
            c(G0, Realtime),
            c(G1c, Realtime),
            c(GSingle, Realtime),
            c(GNonadjacent, Realtime),
            c(G2Item, Realtime),
        ]
    };

    /// The name Elle and the literature use: `G0`, `G1c-realtime`, `G-single-process`,
    /// `lost-update`, ...
    pub fn name(self) -> String {
        match self {
            AnomalyKind::Cycle(class, Variant::Data) => class.name().to_string(),
            AnomalyKind::Cycle(class, Variant::Process) => format!("{}-process", class.name()),
            AnomalyKind::Cycle(class, Variant::Realtime) => format!("{}-realtime", class.name()),
            other => other.fixed_name().to_string(),
        }
    }

    fn fixed_name(self) -> &'static str {
        match self {
            AnomalyKind::Cycle(..) => "cycle",
            AnomalyKind::G1a => "G1a",
            AnomalyKind::G1b => "G1b",
            AnomalyKind::Internal => "internal",
            AnomalyKind::NonRepeatableRead => "non-repeatable-read",
            AnomalyKind::FutureRead => "future-read",
            AnomalyKind::DuplicateElements => "duplicate-elements",
            AnomalyKind::IncompatibleOrder => "incompatible-order",
            AnomalyKind::GarbageRead => "garbage-read",
            AnomalyKind::LostUpdate => "lost-update",
            AnomalyKind::WrongTotal => "wrong-total",
            AnomalyKind::NegativeBalance => "negative-balance",
            AnomalyKind::UnexpectedKey => "unexpected-key",
            AnomalyKind::NilBalance => "nil-balance",
            AnomalyKind::LongFork => "long-fork",
            AnomalyKind::Lost => "lost",
            AnomalyKind::Stale => "stale",
            AnomalyKind::UnexpectedElement => "unexpected-element",
            AnomalyKind::DuplicateElement => "duplicate-element",
        }
    }

    /// One line on what the anomaly is, for people meeting the name for the first time.
    pub fn meaning(self) -> &'static str {
        match self {
            AnomalyKind::Cycle(CycleClass::G0, _) => {
                "write cycle: transactions overwrote each other's writes in a circle (dirty write)"
            }
            AnomalyKind::Cycle(CycleClass::G1c, _) => {
                "circular information flow: each transaction saw or overwrote another's effects in a circle"
            }
            AnomalyKind::Cycle(CycleClass::GSingle, _) => {
                "read skew: one transaction missed a write that, through the others, precedes it"
            }
            AnomalyKind::Cycle(CycleClass::GNonadjacent, _) => {
                "several non-adjacent missed writes in a circle: forbidden by snapshot isolation"
            }
            AnomalyKind::Cycle(CycleClass::G2Item, _) => {
                "write skew: transactions each missed the other's write, as snapshot isolation allows"
            }
            AnomalyKind::G1a => "aborted read: a committed transaction saw a write of a failed one",
            AnomalyKind::G1b => {
                "intermediate read: a committed transaction saw a value its writer later overwrote in the same transaction"
            }
            AnomalyKind::Internal => "a transaction did not see its own earlier writes",
            AnomalyKind::NonRepeatableRead => {
                "a transaction read a key twice and saw two versions (a fuzzy read)"
            }
            AnomalyKind::FutureRead => "a transaction saw a value it wrote only later",
            AnomalyKind::DuplicateElements => "a read holds an element twice, though each was appended once",
            AnomalyKind::IncompatibleOrder => {
                "two reads of a key disagree on the order of its appends: neither is a prefix of the other"
            }
            AnomalyKind::GarbageRead => "a read returned a value nobody wrote",
            AnomalyKind::LostUpdate => {
                "two committed transactions read the same version and both wrote it: one update is lost"
            }
            AnomalyKind::WrongTotal => "the balances of a read do not add up to the total",
            AnomalyKind::NegativeBalance => "a read saw a negative balance",
            AnomalyKind::UnexpectedKey => "a read saw an account that does not exist",
            AnomalyKind::NilBalance => "a read saw an account without a balance",
            AnomalyKind::LongFork => {
                "two reads saw writes to different keys in opposite orders (long fork)"
            }
            AnomalyKind::Lost => "an element known to be added later disappeared from every read",
            AnomalyKind::Stale => "an element was missing from reads that began after it was known to be added",
            AnomalyKind::UnexpectedElement => "a read saw an element nobody tried to add",
            AnomalyKind::DuplicateElement => "a read saw the same element twice",
        }
    }

    /// Parses a name as [`AnomalyKind::name`] writes it.
    pub fn parse(name: &str) -> Option<AnomalyKind> {
        AnomalyKind::every().into_iter().find(|k| k.name() == name)
    }

    /// Every kind, cycles first.
    pub fn every() -> Vec<AnomalyKind> {
        let mut all = AnomalyKind::ALL_CYCLES.to_vec();
        all.extend([
            AnomalyKind::G1a,
            AnomalyKind::G1b,
            AnomalyKind::Internal,
            AnomalyKind::NonRepeatableRead,
            AnomalyKind::FutureRead,
            AnomalyKind::DuplicateElements,
            AnomalyKind::IncompatibleOrder,
            AnomalyKind::GarbageRead,
            AnomalyKind::LostUpdate,
            AnomalyKind::WrongTotal,
            AnomalyKind::NegativeBalance,
            AnomalyKind::UnexpectedKey,
            AnomalyKind::NilBalance,
            AnomalyKind::LongFork,
            AnomalyKind::Lost,
            AnomalyKind::Stale,
            AnomalyKind::UnexpectedElement,
            AnomalyKind::DuplicateElement,
        ]);
        all
    }

    /// The kinds whose presence this one implies, so that finding it makes searching for them
    /// pointless (Elle's implication graph, on the kinds this crate searches for): a cycle of
    /// data edges is also a cycle with process and real-time edges allowed, and a G0 cycle is
    /// a G1c (Adya's G1c includes write-write edges); G-single is a G-nonadjacent with one
    /// anti-dependency.
    pub fn implies(self, other: AnomalyKind) -> bool {
        let (AnomalyKind::Cycle(c1, v1), AnomalyKind::Cycle(c2, v2)) = (self, other) else {
            return self == other;
        };
        let class = c1 == c2
            || (c1 == CycleClass::G0 && c2 == CycleClass::G1c)
            || (c1 == CycleClass::GSingle && c2 == CycleClass::GNonadjacent);
        class && v1 <= v2
    }
}

impl AnomalyKind {
    fn sort_key(self) -> (u8, Variant, CycleClass, u8) {
        match self {
            AnomalyKind::Cycle(class, variant) => (0, variant, class, 0),
            other => {
                let rank = AnomalyKind::every()
                    .iter()
                    .position(|k| *k == other)
                    .unwrap_or(usize::MAX) as u8;
                (1, Variant::Data, CycleClass::G0, rank)
            }
        }
    }
}

impl PartialOrd for AnomalyKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AnomalyKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for AnomalyKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in AnomalyKind::every() {
            assert_eq!(AnomalyKind::parse(&kind.name()), Some(kind), "{kind}");
        }
        assert_eq!(
            AnomalyKind::Cycle(CycleClass::GSingle, Variant::Realtime).name(),
            "G-single-realtime"
        );
    }

    #[test]
    fn implications() {
        use CycleClass::*;
        use Variant::*;
        let c = AnomalyKind::Cycle;
        assert!(c(G0, Data).implies(c(G1c, Realtime)));
        assert!(c(GSingle, Process).implies(c(GNonadjacent, Realtime)));
        assert!(!c(GSingle, Realtime).implies(c(GSingle, Data)));
        assert!(!c(GSingle, Data).implies(c(G2Item, Data)));
    }
}
