//! One test binary for the checker's tests: procedures against the generic search and the
//! brute-force oracle, diagnoses, explanations.
//!
//! Every file here is a module of this one binary rather than a binary of its own: each
//! binary links the whole dependency tree again, which made the test build several minutes
//! longer.

mod common;
mod decimal_counter;
mod diagnosis;
mod diagnosis_corpus;
mod explanations;
mod growing_set;
mod independent;
mod properties;
mod uniform_counter;
mod unique_queue;
mod unique_values;
