//! Systems the runner can drive out of the box.

pub mod postgres;
pub mod redis;
