//! Times each phase of a check: `cargo run --release --example phases -- FILE`.
use std::time::Instant;

use photofinish_txn::graph::{Graph, Realtime};
use photofinish_txn::txns::{Workload, WriteIndex};

fn main() {
    let path = std::env::args().nth(1).expect("a history file");
    let t = Instant::now();
    let (txns, _) =
        photofinish_txn::read::read_txns(std::path::Path::new(&path), Workload::ListAppend, None)
            .unwrap();
    eprintln!("read txns: {:?} ({} txns)", t.elapsed(), txns.txns.len());
    let t = Instant::now();
    let _writes = WriteIndex::build(&txns).unwrap();
    eprintln!("write index: {:?}", t.elapsed());
    let t = Instant::now();
    let inferred = photofinish_txn::list_append::infer(&txns);
    eprintln!("infer: {:?} ({} edges)", t.elapsed(), inferred.edges.len());
    let t = Instant::now();
    let graph = Graph::build(txns.txns.len(), inferred.edges);
    eprintln!("graph: {:?} ({} edges)", t.elapsed(), graph.edge_count());
    let t = Instant::now();
    let rt = Realtime::build(&txns);
    eprintln!("realtime: {:?}", t.elapsed());
    let t = Instant::now();
    let cycles =
        photofinish_txn::search::find_cycles(&graph, &rt, &txns, Default::default(), &mut || false);
    eprintln!(
        "cycles: {:?} ({} components)",
        t.elapsed(),
        cycles.components
    );
}
