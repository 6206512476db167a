//! Transactional isolation checking for photofinish (work in progress).

pub mod error;
pub mod graph;
pub mod intern;
pub mod render;
pub mod scc;
pub mod txns;
