//! The systems photofinish can drive.

pub mod etcd;
pub mod exec;
pub mod http;
pub mod memory;
pub mod postgres;
pub mod redis;
