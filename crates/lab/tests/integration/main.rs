//! One test binary for the race lab's tests: its scenarios, comparisons, the demo and the HTTP
//! target.
//!
//! Every file here is a module of this one binary rather than a binary of its own: each
//! binary links the whole dependency tree again, which made the test build several minutes
//! longer.

mod compare;
mod deadlock;
mod demo;
mod http_target;
