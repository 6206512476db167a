//! Which strategies the demo drives, with how many replicas, and the workload file for each:
//! built in code as the same [`HttpSpec`] a user's TOML file becomes, so the demo exercises the
//! HTTP target exactly as a user's service would.

use std::fmt;

use photofinish_run::targets::http::{HttpSpec, Pointer, RequestSpec, Template};
use photofinish_run::WorkloadKind;

use crate::strategies::{CounterStrategy, CreateStrategy, Expectation, StatusStrategy};

/// A strategy of any of the lab's three races.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Create(CreateStrategy),
    Counter(CounterStrategy),
    Status(StatusStrategy),
}

impl Strategy {
    /// The race the strategy belongs to.
    pub fn scenario(self) -> &'static str {
        match self {
            Strategy::Create(_) => "create-once",
            Strategy::Counter(_) => "counter",
            Strategy::Status(_) => "status",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Create(s) => s.name(),
            Strategy::Counter(s) => s.name(),
            Strategy::Status(s) => s.name(),
        }
    }

    pub fn expectation(self, replicas: usize) -> Expectation {
        match self {
            Strategy::Create(s) => s.expectation(),
            Strategy::Counter(s) => s.expectation(replicas),
            Strategy::Status(s) => s.expectation(),
        }
    }

    /// The workload, and so the model, that makes this race's anomaly provable: duplicate
    /// creations, lost increments, and conditions missing from the status's set.
    pub fn workload(self) -> WorkloadKind {
        match self {
            Strategy::Create(_) => WorkloadKind::CreateOnce,
            Strategy::Counter(_) => WorkloadKind::Counter,
            Strategy::Status(_) => WorkloadKind::Set,
        }
    }

    /// How many independent objects the workload spreads over. Create-once walks fresh keys
    /// on its own; the others share a few, enough for contention on each, few enough that the
    /// checker's search over each key's concurrent operations stays quick.
    pub fn keys(self) -> usize {
        match self {
            Strategy::Create(_) => 1,
            Strategy::Counter(_) | Strategy::Status(_) => 2,
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
            Strategy::Create(_) => vec![(
                "create",
                post(&format!("/objects/{name}/{{key}}"), "{}", Some("/result"))?,
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
        };
        let spec = HttpSpec {
            base_url: urls,
            workload: self.workload(),
            keys,
            headers: Default::default(),
            setup: Vec::new(),
            ops: ops
                .into_iter()
                .map(|(f, request)| (f.to_string(), request))
                .collect(),
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

/// Every strategy on three replicas, as a service is deployed, and `local-lock` on one as well:
/// the one case where a lock in memory is enough.
pub fn default_scenarios() -> Vec<Scenario> {
    let on = |strategy, replicas| Scenario { strategy, replicas };
    let mut scenarios: Vec<Scenario> = Vec::new();
    for s in CreateStrategy::ALL {
        scenarios.push(on(Strategy::Create(*s), 3));
    }
    for s in CounterStrategy::ALL {
        if *s == CounterStrategy::LocalLock {
            scenarios.push(on(Strategy::Counter(*s), 1));
        }
        scenarios.push(on(Strategy::Counter(*s), 3));
    }
    for s in StatusStrategy::ALL {
        scenarios.push(on(Strategy::Status(*s), 3));
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
    fn local_lock_is_racy_only_with_several_replicas() {
        let local = Strategy::Counter(CounterStrategy::LocalLock);
        let expectations: Vec<_> = default_scenarios()
            .into_iter()
            .filter(|s| s.strategy == local)
            .map(|s| (s.replicas, s.expectation()))
            .collect();
        assert_eq!(
            expectations,
            vec![(1, Expectation::Safe), (3, Expectation::Racy)]
        );
    }
}
