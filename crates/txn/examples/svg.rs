//! Writes the SVG of every cycle found in a history: `cargo run --example svg -- FILE OUT_DIR`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let options = photofinish_txn::TxnOptions::default();
    let report = photofinish_txn::check_path(
        std::path::Path::new(&args[1]),
        photofinish_txn::Workload::ListAppend,
        None,
        &options,
    )
    .unwrap();
    for (i, f) in report.anomalies.iter().enumerate() {
        if let Some(svg) = photofinish_txn::svg::cycle_svg(f) {
            std::fs::write(format!("{}/cycle-{i}.svg", args[2]), svg).unwrap();
        }
    }
}
