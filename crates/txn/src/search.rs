//! Which cycles a dependency graph holds: decided exactly for every consistency model, and
//! searched by shape for explanations.
//!
//! First the strongly connected components of the whole graph (data, derived and real-time
//! edges); a cycle of any kind lies inside one. Within each component:
//! 1. For each model, whether a cycle it forbids exists is decided exactly by the components
//!    of the model's subgraph: ww for read uncommitted, ww+wr for read committed, the
//!    no-adjacent-rw product for snapshot isolation, ww+wr+rw for (repeatable read and)
//!    serializability, everything with real time for strict serializability.
//! 2. Shapes are searched in Elle's order (G0, G1c, G-single, G-nonadjacent, G2-item; then
//!    with process edges; then with real-time edges), skipping a shape implied by one already
//!    found, each within a budget of edges examined.
//! 3. When a model's exact check found a cycle but no shape search did (the budget ran out),
//!    one breadth-first search in the model's subgraph produces a cycle anyway: every verdict
//!    comes with a cycle to show.

use crate::anomaly::{AnomalyKind, CycleClass, Variant};
use crate::consistency::ConsistencyModel;
use crate::cycles::{classify, simple_cycles, Budget, CycleSearch, Pattern, Scope, Shape, Step};
use crate::graph::{kind, Graph, Realtime};
use crate::scc::{Members, Nonadjacent, Projection, Tarjan};
use crate::txns::Txns;

/// How much work cycle searches may do.
#[derive(Clone, Copy, Debug)]
pub struct SearchLimits {
    /// Edges examined per component and shape.
    pub per_shape: u64,
    /// Edges examined in all; past it only the fallback searches run.
    pub total: u64,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            per_shape: 2_000_000,
            total: 200_000_000,
        }
    }
}

/// A cycle found, with its class.
#[derive(Clone, Debug)]
pub struct FoundCycle {
    pub kind: AnomalyKind,
    pub steps: Vec<Step>,
}

/// What the search found.
#[derive(Debug, Default)]
pub struct Cycles {
    pub found: Vec<FoundCycle>,
    /// Strongly connected components of the whole graph with a cycle.
    pub components: usize,
    /// Shape searches that ran out of budget.
    pub exhausted: usize,
    /// The caller stopped the search before every component was searched.
    pub stopped: bool,
}

const SHAPES: [(Shape, CycleClass); 5] = [
    (Shape::G0, CycleClass::G0),
    (Shape::G1c, CycleClass::G1c),
    (Shape::GSingle, CycleClass::GSingle),
    (Shape::GNonadjacent, CycleClass::GNonadjacent),
    (Shape::G2Item, CycleClass::G2Item),
];

/// Edge mask and real-time flag of the subgraph a shape lives in.
fn subgraph(shape: Shape, variant: Variant) -> (u8, bool) {
    let data = match shape {
        Shape::G0 => kind::WW,
        Shape::G1c => kind::WW | kind::WR,
        Shape::Any(mask) => mask,
        _ => kind::DATA,
    };
    match variant {
        Variant::Data => (data, false),
        Variant::Process => (data | kind::PROCESS, false),
        Variant::Realtime => (data, true),
    }
}

struct Searcher<'a> {
    graph: &'a Graph,
    realtime: &'a Realtime,
    tarjan: Tarjan,
    product: Tarjan,
    members: Members,
    product_members: Members,
    search: CycleSearch<'a>,
    limits: SearchLimits,
    spent: u64,
    has_process_edges: bool,
}

/// Finds the cycles of `graph`.
///
/// `stop` is asked before each component; when it says so, the search ends there (the
/// components searched so far keep their findings).
pub fn find_cycles(
    graph: &Graph,
    realtime: &Realtime,
    txns: &Txns,
    limits: SearchLimits,
    stop: &mut dyn FnMut() -> bool,
) -> Cycles {
    let n = graph.nodes();
    let universe = n + realtime.times();
    let everything = Members::everything(universe);
    let full = Projection {
        graph,
        realtime: Some(realtime),
        mask: kind::DATA,
        derived: true,
        members: &everything,
    };
    let mut tarjan = Tarjan::new(universe);
    let mut components = tarjan.components(&full, 0..universe as u32);
    // Components in a fixed order: by their first transaction.
    components.sort_unstable_by_key(|c| c[0]);
    let has_process_edges = (0..n as u32).any(|v| {
        let (_, kinds) = graph.out(v);
        kinds.iter().any(|k| k & kind::PROCESS != 0)
    });
    let mut searcher = Searcher {
        graph,
        realtime,
        tarjan,
        product: Tarjan::new(2 * n),
        members: Members::everything(universe),
        product_members: Members::everything(n),
        search: CycleSearch::new(graph, txns),
        limits,
        spent: 0,
        has_process_edges,
    };
    let mut cycles = Cycles {
        components: components.len(),
        ..Cycles::default()
    };
    for component in &components {
        if stop() {
            cycles.stopped = true;
            break;
        }
        searcher.component(component, &mut cycles);
    }
    cycles
}

impl Searcher<'_> {
    /// The components (of two transactions or more) of the subgraph `mask` within `region`.
    fn sub_components(&mut self, region: &[u32], mask: u8, realtime: bool) -> Vec<Vec<u32>> {
        self.members.set(region);
        let projection = Projection {
            graph: self.graph,
            realtime: realtime.then_some(self.realtime),
            mask,
            derived: realtime,
            members: &self.members,
        };
        let n = self.graph.nodes() as u32;
        let mut found = self.tarjan.components(&projection, region.iter().copied());
        for c in &mut found {
            c.retain(|&v| v < n);
        }
        found.retain(|c| c.len() > 1);
        found.sort_unstable_by_key(|c| c[0]);
        found
    }

    /// The transactions of the components of the no-adjacent-rw product within `region`.
    fn nonadjacent_components(&mut self, region: &[u32]) -> Vec<Vec<u32>> {
        let n = self.graph.nodes() as u32;
        let txns: Vec<u32> = region.iter().copied().filter(|&v| v < n).collect();
        self.product_members.set(&txns);
        let product = Nonadjacent {
            graph: self.graph,
            members: &self.product_members,
        };
        let roots = txns.iter().flat_map(|&v| [2 * v, 2 * v + 1]);
        let mut found: Vec<Vec<u32>> = self
            .product
            .components(&product, roots)
            .into_iter()
            .map(|c| {
                let mut t: Vec<u32> = c.into_iter().map(|p| p / 2).collect();
                t.dedup();
                t
            })
            .filter(|c| c.len() > 1)
            .collect();
        found.sort_unstable_by_key(|c| c[0]);
        found
    }

    /// Searches `region` for a cycle of `pattern`; returns simple cycles of the walk found.
    fn search(
        &mut self,
        region: &[u32],
        pattern: Pattern,
        budget: &mut Budget,
        first_only: bool,
    ) -> Vec<Vec<Step>> {
        self.search.set_region(region);
        let walk = self.search.find(pattern, budget, first_only);
        walk.map(|w| simple_cycles(&w)).unwrap_or_default()
    }

    fn component(&mut self, component: &[u32], cycles: &mut Cycles) {
        let mut found: Vec<FoundCycle> = Vec::new();
        let variants: &[Variant] = if self.has_process_edges {
            &[Variant::Data, Variant::Process, Variant::Realtime]
        } else {
            &[Variant::Data, Variant::Realtime]
        };
        for &variant in variants {
            for (shape, class) in SHAPES {
                let wanted = AnomalyKind::Cycle(class, variant);
                if found.iter().any(|f| f.kind.implies(wanted)) {
                    continue;
                }
                if self.spent >= self.limits.total {
                    break;
                }
                let (mask, realtime) = subgraph(shape, variant);
                let regions = self.sub_components(component, mask, realtime);
                let pattern = Pattern {
                    shape,
                    scope: match variant {
                        Variant::Data => Scope::Data,
                        Variant::Process => Scope::Process,
                        Variant::Realtime => Scope::Realtime,
                    },
                    require_special: variant != Variant::Data,
                };
                let mut budget = Budget::new(self.limits.per_shape);
                let mut best: Option<Vec<Step>> = None;
                for region in &regions {
                    for cycle in self.search(region, pattern, &mut budget, false) {
                        if classify(&cycle) == wanted
                            && best.as_ref().is_none_or(|b| cycle.len() < b.len())
                        {
                            best = Some(cycle);
                        }
                    }
                    if budget.exhausted() {
                        break;
                    }
                }
                self.spent += budget.spent;
                if budget.exhausted() && best.is_none() {
                    cycles.exhausted += 1;
                }
                if let Some(steps) = best {
                    found.push(FoundCycle {
                        kind: wanted,
                        steps,
                    });
                }
            }
        }
        self.fallbacks(component, &mut found);
        cycles.found.extend(found);
    }

    /// For every model whose exact check finds a cycle in `component` that no cycle found so
    /// far shows, one cycle of the model's subgraph.
    fn fallbacks(&mut self, component: &[u32], found: &mut Vec<FoundCycle>) {
        for model in [
            ConsistencyModel::ReadUncommitted,
            ConsistencyModel::ReadCommitted,
            ConsistencyModel::SnapshotIsolation,
            ConsistencyModel::Serializable,
            ConsistencyModel::StrictSerializable,
        ] {
            if found.iter().any(|f| model.forbids(f.kind)) {
                continue;
            }
            let (regions, pattern) = match model {
                ConsistencyModel::SnapshotIsolation => (
                    self.nonadjacent_components(component),
                    Pattern {
                        shape: Shape::AnyNonadjacent,
                        scope: Scope::Data,
                        require_special: false,
                    },
                ),
                ConsistencyModel::StrictSerializable => (
                    vec![component.to_vec()],
                    Pattern {
                        shape: Shape::Any(kind::DATA),
                        scope: Scope::Realtime,
                        require_special: false,
                    },
                ),
                _ => {
                    let mask = match model {
                        ConsistencyModel::ReadUncommitted => kind::WW,
                        ConsistencyModel::ReadCommitted => kind::WW | kind::WR,
                        _ => kind::DATA,
                    };
                    (
                        self.sub_components(component, mask, false),
                        Pattern {
                            shape: Shape::Any(mask),
                            scope: Scope::Data,
                            require_special: false,
                        },
                    )
                }
            };
            let Some(region) = regions.first() else {
                continue;
            };
            let mut budget = Budget::new(u64::MAX);
            let cycle = self
                .search(region, pattern, &mut budget, true)
                .into_iter()
                .find(|c| model.forbids(classify(c)));
            if let Some(steps) = cycle {
                let kind = classify(&steps);
                found.push(FoundCycle { kind, steps });
            }
        }
    }
}
