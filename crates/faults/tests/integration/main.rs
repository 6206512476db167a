//! One test binary for the fault-injection tests: the loopback proxy, real servers started and
//! killed, clusters, the nemesis.
//!
//! Every file here is a module of this one binary rather than a binary of its own: each
//! binary links the whole dependency tree again, which made the test build several minutes
//! longer.

mod clusters;
mod common;
mod nemesis;
mod proxy;
mod servers;
