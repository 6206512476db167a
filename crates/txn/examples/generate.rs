//! Writes a generated transaction history as JSON Lines:
//! `cargo run --release --example generate -- OUT [transactions] [serializable|snapshot-isolation|read-committed] [list-append|rw-register] [seed]`.
use photofinish_txn::generate::{generate, write_jsonl, GenConfig, SimIsolation};
use photofinish_txn::Workload;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: generate OUT [transactions] [isolation] [workload] [seed]");
        std::process::exit(2);
    };
    let mut config = GenConfig::default();
    if let Some(n) = args.get(1) {
        config.transactions = n.parse().expect("a number of transactions");
    }
    if let Some(i) = args.get(2) {
        config.isolation = match i.as_str() {
            "serializable" => SimIsolation::Serializable,
            "snapshot-isolation" => SimIsolation::SnapshotIsolation,
            "read-committed" => SimIsolation::ReadCommitted,
            other => panic!("unknown isolation {other}"),
        };
    }
    if let Some(w) = args.get(3) {
        config.workload = Workload::parse(w).expect("list-append or rw-register");
    }
    if let Some(s) = args.get(4) {
        config.seed = s.parse().expect("a seed");
    }
    let events = generate(&config);
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    write_jsonl(&events, &mut file)
}
