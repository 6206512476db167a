//! The systems photofinish can drive.

pub mod exec;
