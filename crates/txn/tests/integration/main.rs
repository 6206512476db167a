//! One test binary for the transactional checker's tests: list-append, rw-register, Elle's corpus
//! and generated histories.
//!
//! Every file here is a module of this one binary rather than a binary of its own: each
//! binary links the whole dependency tree again, which made the test build several minutes
//! longer.

mod common;
mod elle_corpus;
mod list_append;
mod properties;
mod rw_register;
