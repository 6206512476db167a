//! The systems photofinish can drive.

pub mod exec;
pub mod http;
