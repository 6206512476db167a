//! One test binary for the command line's tests: every subcommand run as a user would, exit codes,
//! output and files.
//!
//! Every file here is a module of this one binary rather than a binary of its own: each
//! binary links the whole dependency tree again, which made the test build several minutes
//! longer.

mod budgets;
mod cli;
mod common;
mod compare_cli;
mod compare_runs_cli;
mod corpus;
mod early_stop_cli;
mod exec_startup_cli;
mod faults_cli;
mod hardening_cli;
mod hardening_run;
mod header_cli;
mod http_cli;
mod http_txn_cli;
mod mix_cli;
mod mutation;
mod proxy_cli;
mod recorder;
mod report_cli;
mod repro_readers;
mod run_cli;
mod run_model_error_cli;
mod stall_cli;
mod txn_cli;
mod txn_run_cli;
