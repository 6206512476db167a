//! Runs the race lab's demo and prints its table, as `photofinish demo` does:
//! `cargo run --release -p photofinish-lab --example demo [DIR]`.

use std::sync::Arc;

fn main() {
    let options = photofinish_lab::DemoOptions {
        dir: std::env::args_os().nth(1).map(Into::into),
        progress: Some(Arc::new(|row: &photofinish_lab::DemoRow| {
            eprintln!("{row}");
        })),
        ..photofinish_lab::DemoOptions::default()
    };
    match photofinish_lab::demo_blocking(&options) {
        Ok(report) => {
            println!("{report}");
            std::process::exit(report.exit_code());
        }
        Err(error) => {
            eprintln!("demo: {error}");
            std::process::exit(2);
        }
    }
}
