//! Consistency models, and which anomalies each forbids.
//!
//! | anomaly                                              | RU | RC | SI | RR | SER | SSER |
//! |------------------------------------------------------|----|----|----|----|-----|------|
//! | G0 (write cycle)                                     | x  | x  | x  | x  | x   | x    |
//! | internal, garbage-read, duplicate-elements           | x  | x  | x  | x  | x   | x    |
//! | G1a, G1b, G1c, incompatible-order, future-read       |    | x  | x  | x  | x   | x    |
//! | G-single, G-nonadjacent, lost-update                 |    |    | x  | x  | x   | x    |
//! | non-repeatable-read (a fuzzy read within a txn)      |    |    | x  | x  | x   | x    |
//! | G2-item                                              |    |    |    | x  | x   | x    |
//! | any `-process` or `-realtime` cycle                  |    |    |    |    |     | x    |
//!
//! RU read uncommitted (Adya PL-1), RC read committed (PL-2), SI snapshot isolation (PL-SI),
//! RR repeatable read (PL-2.99), SER serializable (PL-3), SSER strict serializable (PL-SS).
//!
//! Sources and choices, following Adya and Elle's `consistency-model` table:
//! - PL-1 forbids G0; PL-2 adds G1 (G1a, G1b, G1c); PL-2.99 adds G2-item; PL-3 adds G2;
//!   PL-SS adds the real-time variants. Elle counts incompatible orders of a list as a dirty
//!   read (G1a) and a future read as G1c, and so do we.
//! - Snapshot isolation forbids G1 and every cycle whose anti-dependencies are pairwise
//!   non-adjacent (G-single, G-nonadjacent), and lost updates (first committer wins); it
//!   allows write skew (G2-item).
//! - These histories hold no predicate reads, so every anti-dependency is on an item: a
//!   G-single or G-nonadjacent cycle is also a G2-item cycle, which repeatable read forbids,
//!   and repeatable read and serializable forbid the same cycles.
//! - Process order is implied by real-time order (a process runs one transaction at a time),
//!   so of these six models only strict serializability forbids `-process` cycles.
//! - Elle counts every internal inconsistency (Cerone et al.'s INT axiom) against
//!   serializability and snapshot isolation only. We split it in two. A transaction that
//!   does not see its own earlier writes (`internal`) breaks an assumption of Adya's
//!   definitions at every level, as does a read of a value nobody wrote. A transaction that
//!   reads a key twice and sees two versions (`non-repeatable-read`, ANSI's fuzzy read P2)
//!   is what read committed allows and repeatable read and snapshot isolation forbid.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::anomaly::{AnomalyKind, CycleClass, Variant};

/// The consistency models a transactional history can be checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsistencyModel {
    ReadUncommitted,
    ReadCommitted,
    SnapshotIsolation,
    RepeatableRead,
    Serializable,
    StrictSerializable,
}

impl ConsistencyModel {
    /// From weakest to strongest (snapshot isolation and repeatable read are incomparable).
    pub const ALL: [ConsistencyModel; 6] = [
        ConsistencyModel::ReadUncommitted,
        ConsistencyModel::ReadCommitted,
        ConsistencyModel::SnapshotIsolation,
        ConsistencyModel::RepeatableRead,
        ConsistencyModel::Serializable,
        ConsistencyModel::StrictSerializable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ConsistencyModel::ReadUncommitted => "read-uncommitted",
            ConsistencyModel::ReadCommitted => "read-committed",
            ConsistencyModel::SnapshotIsolation => "snapshot-isolation",
            ConsistencyModel::RepeatableRead => "repeatable-read",
            ConsistencyModel::Serializable => "serializable",
            ConsistencyModel::StrictSerializable => "strict-serializable",
        }
    }

    pub fn parse(name: &str) -> Option<ConsistencyModel> {
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        match name.as_str() {
            "read-uncommitted" | "pl-1" => Some(ConsistencyModel::ReadUncommitted),
            "read-committed" | "pl-2" => Some(ConsistencyModel::ReadCommitted),
            "snapshot-isolation" | "si" | "pl-si" => Some(ConsistencyModel::SnapshotIsolation),
            "repeatable-read" | "pl-2.99" => Some(ConsistencyModel::RepeatableRead),
            "serializable" | "pl-3" => Some(ConsistencyModel::Serializable),
            "strict-serializable" | "strong-serializable" | "pl-ss" => {
                Some(ConsistencyModel::StrictSerializable)
            }
            _ => None,
        }
    }

    /// Whether every history this model allows is also allowed by `weaker`.
    pub fn implies(self, weaker: ConsistencyModel) -> bool {
        use ConsistencyModel::*;
        self == weaker
            || match self {
                StrictSerializable => true,
                Serializable => weaker != StrictSerializable,
                RepeatableRead | SnapshotIsolation => {
                    matches!(weaker, ReadCommitted | ReadUncommitted)
                }
                ReadCommitted => weaker == ReadUncommitted,
                ReadUncommitted => false,
            }
    }

    /// Whether a history showing `anomaly` violates this model (see the table above). The
    /// invariants of bank, long-fork and set-full are checked whatever the model.
    pub fn forbids(self, anomaly: AnomalyKind) -> bool {
        use ConsistencyModel::*;
        let at_least_rc = self != ReadUncommitted;
        let si_or_rr = matches!(
            self,
            SnapshotIsolation | RepeatableRead | Serializable | StrictSerializable
        );
        let rr_or_ser = matches!(self, RepeatableRead | Serializable | StrictSerializable);
        match anomaly {
            AnomalyKind::Cycle(_, Variant::Process | Variant::Realtime) => {
                self == StrictSerializable
            }
            AnomalyKind::Cycle(CycleClass::G0, Variant::Data) => true,
            AnomalyKind::Cycle(CycleClass::G1c, Variant::Data) => at_least_rc,
            AnomalyKind::Cycle(CycleClass::GSingle | CycleClass::GNonadjacent, Variant::Data) => {
                si_or_rr
            }
            AnomalyKind::Cycle(CycleClass::G2Item, Variant::Data) => rr_or_ser,
            AnomalyKind::G1a
            | AnomalyKind::G1b
            | AnomalyKind::IncompatibleOrder
            | AnomalyKind::FutureRead => at_least_rc,
            AnomalyKind::LostUpdate | AnomalyKind::NonRepeatableRead => si_or_rr,
            AnomalyKind::Internal | AnomalyKind::GarbageRead | AnomalyKind::DuplicateElements => {
                true
            }
            _ => true,
        }
    }

    /// The anomalies (of list-append and rw-register) this model forbids.
    pub fn forbidden(self) -> Vec<AnomalyKind> {
        AnomalyKind::every()
            .into_iter()
            .filter(|k| {
                !matches!(
                    k,
                    AnomalyKind::WrongTotal
                        | AnomalyKind::NegativeBalance
                        | AnomalyKind::UnexpectedKey
                        | AnomalyKind::NilBalance
                        | AnomalyKind::LongFork
                        | AnomalyKind::Lost
                        | AnomalyKind::Stale
                        | AnomalyKind::UnexpectedElement
                        | AnomalyKind::DuplicateElement
                )
            })
            .filter(|k| self.forbids(*k))
            .collect()
    }
}

impl fmt::Display for ConsistencyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ConsistencyModel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The models that a history showing `anomalies` violates, weakest first.
pub fn ruled_out(
    anomalies: impl IntoIterator<Item = AnomalyKind> + Clone,
) -> Vec<ConsistencyModel> {
    ConsistencyModel::ALL
        .into_iter()
        .filter(|m| anomalies.clone().into_iter().any(|a| m.forbids(a)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsistencyModel::*;

    #[test]
    fn forbidding_is_monotone_in_strength() {
        // A stronger model forbids everything a weaker one does.
        for strong in ConsistencyModel::ALL {
            for weak in ConsistencyModel::ALL {
                if strong.implies(weak) {
                    for a in AnomalyKind::every() {
                        assert!(
                            !weak.forbids(a) || strong.forbids(a),
                            "{strong} implies {weak} but allows {a}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn write_skew_separates_snapshot_isolation_from_serializable() {
        let skew = AnomalyKind::Cycle(CycleClass::G2Item, Variant::Data);
        assert_eq!(
            ruled_out([skew]),
            [RepeatableRead, Serializable, StrictSerializable]
        );
        let single = AnomalyKind::Cycle(CycleClass::GSingle, Variant::Data);
        assert_eq!(
            ruled_out([single]),
            [
                SnapshotIsolation,
                RepeatableRead,
                Serializable,
                StrictSerializable
            ]
        );
        let stale = AnomalyKind::Cycle(CycleClass::GSingle, Variant::Realtime);
        assert_eq!(ruled_out([stale]), [StrictSerializable]);
        assert_eq!(
            ConsistencyModel::parse("Snapshot_Isolation"),
            Some(SnapshotIsolation)
        );
    }
}
