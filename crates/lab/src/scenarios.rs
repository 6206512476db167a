//! Which strategies the demo drives, with how many replicas, and the workload file for each:
//! built in code as the same [`HttpSpec`] a user's TOML file becomes, so the demo exercises the
//! HTTP target exactly as a user's service would.

use std::fmt;
use std::time::Duration;

use photofinish_run::targets::http::{HttpSpec, Pointer, RequestSpec, Template};
use photofinish_run::WorkloadKind;

use crate::balance::BalanceStrategy;
use crate::create::CreateStrategy;
use crate::deadlock::DeadlockStrategy;
use crate::drive::LabWorkload;
use crate::remote::RemoteCreateStrategy;
use crate::snapshot::SnapshotStrategy;
use crate::stale_read::StaleReadStrategy;
use crate::strategies::{CounterStrategy, Expectation, StatusStrategy};

/// The lab's races, by the name `compare --scenario` takes, in the order the demo runs them.
pub const SCENARIOS: [&str; 8] = [
    "create-once",
    "slow-network",
    "counter",
    "decimal-counter",
    "status",
    "snapshot",
    "stale-read",
    "deadlock",
];

/// What a scenario's requests do and what the checker holds them to, in one line.
pub fn describe(scenario: &str) -> &'static str {
    match scenario {
        "create-once" => {
            "every client creates the same fingerprint at once, fingerprint after \
                          fingerprint; create-once allows one `created` each"
        }
        "slow-network" => {
            "two clients create the same fingerprint at once through an objects table across \
             a network link, while the nemesis adds 10 ms to the link's round trips now and \
             then; create-once allows one `created` each"
        }
        "counter" => "adds of 1 and reads; counter allows no lost add",
        "decimal-counter" => {
            "adds of 0.35 to a balance and reads; counter counts the decimals \
                              exactly and allows no lost add"
        }
        "status" => "conditions added to a status document; set allows none to go missing",
        "snapshot" => {
            "a writer sets every field of a record under its lock while readers copy \
                       it; multi-register allows no state that never existed"
        }
        "stale-read" => {
            "reads, writes and compare-and-sets of a register; cas-register allows \
                         no two sets from the same value"
        }
        "deadlock" => {
            "deposits lock an account's balance then its log, statements read it under both \
                       locks; a run in which operations wait and none completes is a stall"
        }
        _ => "",
    }
}

/// A strategy of any of the lab's races.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Create(CreateStrategy),
    RemoteCreate(RemoteCreateStrategy),
    Counter(CounterStrategy),
    Balance(BalanceStrategy),
    Status(StatusStrategy),
    Snapshot(SnapshotStrategy),
    StaleRead(StaleReadStrategy),
    Deadlock(DeadlockStrategy),
}

/// Who generates a strategy's operations: photofinish's runner, with one of its workloads, or
/// the lab's own driver, for workloads the runner has no generator for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    Runner(WorkloadKind),
    Lab(LabWorkload),
}

impl Driver {
    /// The checker model that states what the service promises.
    pub fn model(self) -> &'static str {
        match self {
            Driver::Runner(kind) => kind.model(),
            Driver::Lab(workload) => workload.model(),
        }
    }
}

impl Strategy {
    /// Every strategy of the scenario named `scenario` (one of [`SCENARIOS`]), the original
    /// first: the row the others' added latency is measured against.
    pub fn of_scenario(scenario: &str) -> Option<Vec<Strategy>> {
        Some(match scenario {
            "create-once" => CreateStrategy::ALL
                .iter()
                .map(|s| Strategy::Create(*s))
                .collect(),
            "slow-network" => RemoteCreateStrategy::ALL
                .iter()
                .map(|s| Strategy::RemoteCreate(*s))
                .collect(),
            "counter" => CounterStrategy::ALL
                .iter()
                .map(|s| Strategy::Counter(*s))
                .collect(),
            "decimal-counter" => BalanceStrategy::ALL
                .iter()
                .map(|s| Strategy::Balance(*s))
                .collect(),
            "status" => StatusStrategy::ALL
                .iter()
                .map(|s| Strategy::Status(*s))
                .collect(),
            "snapshot" => SnapshotStrategy::ALL
                .iter()
                .map(|s| Strategy::Snapshot(*s))
                .collect(),
            "stale-read" => StaleReadStrategy::ALL
                .iter()
                .map(|s| Strategy::StaleRead(*s))
                .collect(),
            "deadlock" => DeadlockStrategy::ALL
                .iter()
                .map(|s| Strategy::Deadlock(*s))
                .collect(),
            _ => return None,
        })
    }

    /// The race the strategy belongs to, one of [`SCENARIOS`].
    pub fn scenario(self) -> &'static str {
        match self {
            Strategy::Create(_) => "create-once",
            Strategy::RemoteCreate(_) => "slow-network",
            Strategy::Counter(_) => "counter",
            Strategy::Balance(_) => "decimal-counter",
            Strategy::Status(_) => "status",
            Strategy::Snapshot(_) => "snapshot",
            Strategy::StaleRead(_) => "stale-read",
            Strategy::Deadlock(_) => "deadlock",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Create(s) => s.name(),
            Strategy::RemoteCreate(s) => s.name(),
            Strategy::Counter(s) => s.name(),
            Strategy::Balance(s) => s.name(),
            Strategy::Status(s) => s.name(),
            Strategy::Snapshot(s) => s.name(),
            Strategy::StaleRead(s) => s.name(),
            Strategy::Deadlock(s) => s.name(),
        }
    }

    pub fn expectation(self, replicas: usize) -> Expectation {
        match self {
            Strategy::Create(s) => s.expectation(replicas),
            Strategy::RemoteCreate(s) => s.expectation(),
            Strategy::Counter(s) => s.expectation(replicas),
            Strategy::Balance(s) => s.expectation(),
            Strategy::Status(s) => s.expectation(),
            Strategy::Snapshot(s) => s.expectation(),
            Strategy::StaleRead(s) => s.expectation(),
            Strategy::Deadlock(s) => s.expectation(),
        }
    }

    /// The workload, and so the model, that makes this race's anomaly provable: duplicate
    /// creations, lost increments, conditions missing from the status's set, a record state
    /// that never existed, two compare-and-sets from the same value that both won.
    pub fn driver(self) -> Driver {
        match self {
            Strategy::Create(_) | Strategy::RemoteCreate(_) => {
                Driver::Runner(WorkloadKind::CreateOnce)
            }
            Strategy::Counter(_) | Strategy::Deadlock(_) => Driver::Runner(WorkloadKind::Counter),
            Strategy::Balance(_) => Driver::Lab(LabWorkload::DecimalCounter),
            Strategy::Status(_) => Driver::Runner(WorkloadKind::Set),
            Strategy::Snapshot(_) => Driver::Lab(LabWorkload::Snapshot),
            Strategy::StaleRead(_) => Driver::Runner(WorkloadKind::CasRegister),
        }
    }

    /// The workload kind the HTTP workload file declares: the operation names it maps.
    fn file_workload(self) -> WorkloadKind {
        match self.driver() {
            Driver::Runner(kind) => kind,
            Driver::Lab(LabWorkload::DecimalCounter) => WorkloadKind::Counter,
            Driver::Lab(LabWorkload::Snapshot) => WorkloadKind::Register,
        }
    }

    /// How many independent objects the workload spreads over. Create-once walks fresh keys
    /// on its own; the snapshot is one record; the others share a few, enough for contention
    /// on each, few enough that the checker's search over each key's concurrent operations
    /// stays quick.
    pub fn keys(self) -> usize {
        match self {
            Strategy::Create(_) | Strategy::RemoteCreate(_) | Strategy::Snapshot(_) => 1,
            _ => 2,
        }
    }

    /// Operations per run, as a share of the demo's budget: the creates behind a lock take
    /// turns on each fingerprint, so their runs are given fewer fingerprints.
    pub fn ops(self, budget: u64) -> u64 {
        match self {
            Strategy::Create(_) => (budget / 4).max(1),
            _ => budget,
        }
    }

    /// The workload file that drives this strategy on the lab's replicas at `urls`.
    pub fn spec(self, urls: Vec<String>, keys: usize) -> Result<HttpSpec, String> {
        let name = self.name();
        // Rejected before the handler ran: the operation certainly had no effect.
        let rejected = vec![400, 404, 415, 422];
        let post = |path: &str, body: &str, value: Option<&str>| -> Result<RequestSpec, String> {
            Ok(RequestSpec {
                body: Some(Template::parse(body)?),
                ok: vec![200],
                fail: rejected.clone(),
                value: value.map(Pointer::parse).transpose()?,
                ..RequestSpec::new("POST", path)?
            })
        };
        let read = |path: &str, pointer: &str| -> Result<RequestSpec, String> {
            Ok(RequestSpec {
                ok: vec![200],
                value: Some(Pointer::parse(pointer)?),
                ..RequestSpec::new("GET", path)?
            })
        };
        let ops = match self {
            Strategy::Create(_) => {
                let mut create = post(&format!("/objects/{name}/{{key}}"), "{}", Some("/result"))?;
                // Gave up waiting for the lock before checking: nothing was written.
                create.fail.push(503);
                vec![("create", create)]
            }
            // A 502 (the link failed mid-call) is neither ok nor fail: indeterminate.
            Strategy::RemoteCreate(_) => vec![(
                "create",
                post(
                    &format!("/remote-objects/{name}/{{key}}"),
                    "{}",
                    Some("/result"),
                )?,
            )],
            Strategy::Counter(_) => vec![
                (
                    "add",
                    post(
                        &format!("/counters/{name}/{{key}}/add"),
                        r#"{"amount": {value}}"#,
                        None,
                    )?,
                ),
                ("read", read("/counters/{key}", "/value")?),
            ],
            Strategy::Balance(_) => vec![
                (
                    "add",
                    post(
                        &format!("/balances/{name}/{{key}}/add"),
                        r#"{"amount": {value}}"#,
                        None,
                    )?,
                ),
                (
                    "read",
                    read(&format!("/balances/{name}/{{key}}"), "/balance")?,
                ),
            ],
            Strategy::Status(_) => {
                let mut add = post(
                    &format!("/statuses/{name}/{{key}}/conditions"),
                    r#"{"condition": {value}}"#,
                    None,
                )?;
                // version-check gave up: none of its conditional writes went through.
                add.fail.push(409);
                vec![
                    ("add", add),
                    ("read", read("/statuses/{key}", "/conditions")?),
                ]
            }
            Strategy::Snapshot(_) => vec![
                (
                    "write",
                    post("/records/{key}", r#"{"measurement": {value}}"#, None)?,
                ),
                ("read", read(&format!("/records/{name}/{{key}}"), "")?),
            ],
            Strategy::Deadlock(_) => vec![
                (
                    "add",
                    post(
                        &format!("/accounts/{name}/{{key}}/deposit"),
                        r#"{"amount": {value}}"#,
                        None,
                    )?,
                ),
                (
                    "read",
                    read(&format!("/accounts/{name}/{{key}}"), "/value")?,
                ),
            ],
            Strategy::StaleRead(_) => {
                let mut cas = post(
                    &format!("/registers/{name}/{{key}}/cas"),
                    r#"{"expected": {value.0}, "new": {value.1}}"#,
                    None,
                )?;
                // The value was not the expected one: nothing was written.
                cas.fail.push(409);
                vec![
                    ("read", read("/registers/{key}", "/value")?),
                    (
                        "write",
                        post("/registers/{key}", r#"{"value": {value}}"#, None)?,
                    ),
                    ("cas", cas),
                ]
            }
        };
        let spec = HttpSpec {
            base_url: urls,
            workload: self.file_workload(),
            keys,
            headers: Default::default(),
            setup: Vec::new(),
            ops: ops
                .into_iter()
                .map(|(f, request)| (f.to_string(), request))
                .collect(),
            ..HttpSpec::default()
        };
        spec.validate()?;
        Ok(spec)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.scenario(), self.name())
    }
}

/// A fault the demo injects beside a scenario's clients, and how the run is paced so that the
/// fault's windows hold operations: a run of fixed length rather than of fixed size, since
/// operations outside the windows go much faster than inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabFault {
    /// Added to each round trip on the link between the replicas and the objects table.
    pub latency: Duration,
    /// Quiet time before each slow window, and each window's length.
    pub interval: Duration,
    pub duration: Duration,
    /// How long the run lasts.
    pub run_for: Duration,
    /// How many clients: few, to show that the fault, not the crowd, opens the window.
    pub clients: usize,
}

impl Strategy {
    /// The fault the nemesis injects during this strategy's runs, if it has one.
    pub fn fault(self) -> Option<LabFault> {
        match self {
            Strategy::RemoteCreate(_) => Some(LabFault {
                latency: Duration::from_millis(10),
                interval: Duration::from_millis(250),
                duration: Duration::from_millis(500),
                run_for: Duration::from_millis(1250),
                clients: 2,
            }),
            _ => None,
        }
    }
}

/// One run of the demo: a strategy on some number of replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    pub strategy: Strategy,
    pub replicas: usize,
}

impl Scenario {
    pub fn expectation(&self) -> Expectation {
        self.strategy.expectation(self.replicas)
    }

    /// Where the history goes, under the demo's directory.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}r.jsonl",
            self.strategy.scenario(),
            self.strategy.name(),
            self.replicas
        )
    }
}

/// The runs of one scenario: every strategy on each replica count, replica count by replica
/// count, so that each count's rows compare with that count's first row.
pub fn scenario_runs(scenario: &str, replicas: &[usize]) -> Option<Vec<Scenario>> {
    let strategies = Strategy::of_scenario(scenario)?;
    Some(
        replicas
            .iter()
            .flat_map(|&replicas| {
                strategies
                    .iter()
                    .map(move |&strategy| Scenario { strategy, replicas })
            })
            .collect(),
    )
}

/// What the demo runs: every strategy on three replicas, as a service is deployed; create-once
/// on one replica as well, where an in-process lock is enough; and the counter's `local-lock`
/// on one, the same lesson for a counter.
pub fn default_scenarios() -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    for scenario in SCENARIOS {
        let replicas: &[usize] = match scenario {
            "create-once" => &[1, 3],
            // The link, not the replicas, is what this scenario is about.
            "slow-network" => &[1],
            _ => &[3],
        };
        scenarios.extend(scenario_runs(scenario, replicas).unwrap_or_default());
        if scenario == "counter" {
            scenarios.insert(
                scenarios.len() - CounterStrategy::ALL.len(),
                Scenario {
                    strategy: Strategy::Counter(CounterStrategy::LocalLock),
                    replicas: 1,
                },
            );
        }
    }
    scenarios
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_has_a_valid_workload_file() {
        for scenario in default_scenarios() {
            let urls = vec!["http://127.0.0.1:1".to_string(); scenario.replicas];
            scenario.strategy.spec(urls, 2).unwrap();
        }
    }

    #[test]
    fn every_scenario_is_in_the_demo_and_names_its_strategies() {
        let demo = default_scenarios();
        for scenario in SCENARIOS {
            let strategies = Strategy::of_scenario(scenario).unwrap();
            assert!(strategies.len() >= 2, "{scenario}");
            for strategy in strategies {
                assert_eq!(strategy.scenario(), scenario);
                assert!(demo.iter().any(|s| s.strategy == strategy), "{strategy}");
            }
        }
        assert_eq!(Strategy::of_scenario("livelock"), None);
    }

    #[test]
    fn local_locks_are_racy_only_with_several_replicas() {
        for local in [
            Strategy::Counter(CounterStrategy::LocalLock),
            Strategy::Create(CreateStrategy::LocalLock),
        ] {
            let expectations: Vec<_> = default_scenarios()
                .into_iter()
                .filter(|s| s.strategy == local)
                .map(|s| (s.replicas, s.expectation()))
                .collect();
            assert_eq!(
                expectations,
                vec![(1, Expectation::Safe), (3, Expectation::Racy)],
                "{local}"
            );
        }
    }
}
