//! Decision procedures that are exact for partitions of a particular shape and polynomial where
//! the generic search is exponential. The check tries one when [`SearchChoice::Auto`] allows
//! and the partition has its shape; otherwise the generic search decides.
//!
//! [`SearchChoice::Auto`]: crate::SearchChoice::Auto

pub(crate) mod unique_register;
