//! How fast the runner drives Redis INCR, for bench/redis-incr.sh to compare with
//! redis-benchmark.
//!
//! `redis_rate ADDR CLIENTS OPS HISTORY` runs the counter workload (`incr` variant) through the
//! runner, recording to HISTORY; `redis_rate ADDR CLIENTS OPS --bare` issues the same INCRs
//! through the same clients with nothing recorded, the baseline that prices the recording.
//! Prints `ops/s <rate>`.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use photofinish_history::Value;
use photofinish_run::targets::redis::{RedisTarget, RedisVariant};
use photofinish_run::{
    run_blocking, Client, Completion, Invocation, RunConfig, Target, Workload, WorkloadKind,
};

fn main() -> ExitCode {
    match rate(&std::env::args().skip(1).collect::<Vec<_>>()) {
        Ok(rate) => {
            println!("ops/s {rate:.0}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("redis_rate: {error}");
            ExitCode::from(2)
        }
    }
}

fn rate(args: &[String]) -> Result<f64, String> {
    let [addr, clients, ops, history] = args else {
        return Err("usage: redis_rate ADDR CLIENTS OPS (HISTORY | --bare)".to_string());
    };
    let clients: usize = clients.parse().map_err(|e| format!("CLIENTS: {e}"))?;
    let ops: u64 = ops.parse().map_err(|e| format!("OPS: {e}"))?;
    let target = RedisTarget::new(addr, WorkloadKind::Counter, RedisVariant::Incr)?;
    if history == "--bare" {
        return bare(target, clients, ops);
    }
    let mut config = RunConfig::new(Workload::new(WorkloadKind::Counter, 1, clients), history);
    config.ops = Some(ops);
    let summary = run_blocking(target, &config).map_err(|e| e.to_string())?;
    if summary.info > 0 || summary.fail > 0 {
        return Err(format!("operations went wrong:\n{summary}"));
    }
    Ok(summary.throughput)
}

/// The same clients on the same kind of runtime, without generator, journal or timeouts.
fn bare(target: RedisTarget, clients: usize, ops: u64) -> Result<f64, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        target.setup().await?;
        let target = Arc::new(target);
        let remaining = Arc::new(AtomicU64::new(ops));
        let started = Instant::now();
        let workers: Vec<_> = (0..clients)
            .map(|worker| {
                let target = Arc::clone(&target);
                let remaining = Arc::clone(&remaining);
                tokio::spawn(async move {
                    let mut client = target.connect(worker).await?;
                    let add = Invocation::new("add", None, Value::Int(1));
                    while remaining
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        if let Completion::Fail(e) | Completion::Info(e) = client.invoke(&add).await
                        {
                            return Err(e);
                        }
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for worker in workers {
            worker.await.map_err(|e| e.to_string())??;
        }
        Ok(ops as f64 / started.elapsed().as_secs_f64())
    })
}
