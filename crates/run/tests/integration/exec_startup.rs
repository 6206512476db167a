//! The exec target starts the instance that replaces a worker's program ahead of need.

use std::time::{Duration, Instant};

use photofinish_run::targets::exec::ExecTarget;
use photofinish_run::{Client, Target, Workload, WorkloadKind};

/// Each instance appends the time it started, in seconds since the epoch, to `log`.
fn logging_program(log: &std::path::Path) -> Vec<String> {
    let program = format!(
        "import sys, time\n\
         open({log:?}, 'a').write('%f\\n' % time.time())\n\
         for line in sys.stdin:\n    print('{{\"type\":\"ok\",\"value\":0}}', flush=True)\n",
        log = log.display().to_string()
    );
    vec!["-c".to_string(), program]
}

fn starts(log: &std::path::Path) -> Vec<f64> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| line.parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_instance_of_a_worker_is_started_when_one_is_taken() {
    let dir = std::env::temp_dir().join(format!("pf-exec-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("starts.log");
    let _ = std::fs::remove_file(&log);
    let workload = Workload::new(WorkloadKind::Counter, 1, 1);
    let target = ExecTarget::new("python3", logging_program(&log), workload);

    let first = target.connect(0).await.unwrap();
    // Both the instance taken and the one to replace it are starting.
    let deadline = Instant::now() + Duration::from_secs(20);
    while starts(&log).len() < 2 {
        assert!(Instant::now() < deadline, "two instances start at once");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = starts(&log);
    drop(first);

    // The replacement is the instance already started, and it answers; its own replacement
    // starts now.
    let mut second = target.connect(0).await.unwrap();
    let read = photofinish_run::Invocation::new("read", None, photofinish_history::Value::Null);
    assert!(matches!(
        second.invoke(&read).await,
        photofinish_run::Completion::Ok(_)
    ));
    assert!(second.started().unwrap().is_set());
    while starts(&log).len() < 3 {
        assert!(Instant::now() < deadline, "the next spare starts");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        starts(&log)[..2],
        started[..],
        "no instance started in between"
    );
}
