//! Checks a transaction history file: `cargo run --example check -- FILE [list-append|rw-register] [model]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let workload =
        photofinish_txn::Workload::parse(args.get(2).map_or("list-append", |s| s)).unwrap();
    let mut options = photofinish_txn::TxnOptions::default();
    if let Some(m) = args.get(3) {
        options.consistency_model = photofinish_txn::ConsistencyModel::parse(m).unwrap();
    }
    match photofinish_txn::check_path(std::path::Path::new(&args[1]), workload, None, &options) {
        Ok(report) => print!("{}", photofinish_txn::terminal::render(&report)),
        Err(e) => eprintln!("{e}"),
    }
}
