//! One test binary for the runner's tests: workloads against real Redis, PostgreSQL, etcd, HTTP
//! services and exec programs.
//!
//! Every file here is a module of this one binary rather than a binary of its own: each
//! binary links the whole dependency tree again, which made the test build several minutes
//! longer.

mod bounds;
mod common;
mod early_stop;
mod etcd_bounds;
mod exec_startup;
mod faults_acceptance;
mod http;
mod http_real;
mod kv_multi_register;
mod postgres;
mod postgres_errors;
mod redis;
mod runner;
mod txn_postgres;
