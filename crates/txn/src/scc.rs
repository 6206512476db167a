//! Strongly connected components: Tarjan's algorithm with an explicit stack, so that a chain
//! of a million transactions cannot overflow the thread's stack.
//!
//! The algorithm runs over any [`Successors`]: the dependency graph projected onto some kinds
//! of edges and restricted to a set of nodes ([`Projection`]), or the product graph whose
//! cycles are exactly those with no two adjacent anti-dependencies ([`Nonadjacent`]).

use crate::graph::{kind, Graph, Realtime};

/// Returned by [`Successors::successor`] for a slot that holds no usable edge.
pub const SKIP: u32 = u32::MAX;

/// A graph seen one successor slot at a time, so that the search can stop in the middle of a
/// node's successors and resume there.
pub trait Successors {
    /// Slot `i` of node `v`: a successor, [`SKIP`], or `None` past the last slot.
    fn successor(&self, v: u32, i: u32) -> Option<u32>;
}

/// A set of nodes, cleared in constant time by moving to a new generation.
#[derive(Clone, Debug, Default)]
pub struct Members {
    stamp: Vec<u32>,
    generation: u32,
    all: bool,
}

impl Members {
    /// A set over `universe` nodes that holds all of them.
    pub fn everything(universe: usize) -> Members {
        Members {
            stamp: vec![0; universe],
            generation: 1,
            all: true,
        }
    }

    /// Makes the set hold exactly `nodes`.
    pub fn set(&mut self, nodes: &[u32]) {
        self.all = false;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        for &v in nodes {
            self.stamp[v as usize] = self.generation;
        }
    }

    #[inline]
    pub fn contains(&self, v: u32) -> bool {
        self.all || self.stamp[v as usize] == self.generation
    }
}

/// The dependency graph restricted to the edges whose kinds meet `mask` and to `members`;
/// with `realtime`, time nodes carry real-time order.
pub struct Projection<'a> {
    pub graph: &'a Graph,
    pub realtime: Option<&'a Realtime>,
    /// Kinds an edge must have one of ([`kind::WW`], [`kind::WR`], [`kind::RW`],
    /// [`kind::PROCESS`]).
    pub mask: u8,
    /// Whether edges derived from real-time order count.
    pub derived: bool,
    pub members: &'a Members,
}

impl Successors for Projection<'_> {
    #[inline]
    fn successor(&self, v: u32, i: u32) -> Option<u32> {
        let n = self.graph.nodes() as u32;
        if v < n {
            let (targets, kinds) = self.graph.out(v);
            let i = i as usize;
            if i < targets.len() {
                let k = kinds[i];
                let usable = k & self.mask != 0
                    && (self.derived || k & kind::DERIVED == 0)
                    && self.members.contains(targets[i]);
                return Some(if usable { targets[i] } else { SKIP });
            }
            if i == targets.len() {
                if let Some(node) = self.realtime.and_then(|rt| rt.completion_node(v)) {
                    return Some(if self.members.contains(node) {
                        node
                    } else {
                        SKIP
                    });
                }
            }
            return None;
        }
        let rt = self.realtime?;
        let time = v - n;
        if i == 0 {
            let next = v + 1;
            let usable = (time as usize + 1) < rt.times() && self.members.contains(next);
            return Some(if usable { next } else { SKIP });
        }
        let entering = rt.entering(time);
        let t = *entering.get(i as usize - 1)?;
        Some(if self.members.contains(t) { t } else { SKIP })
    }
}

/// The product of the data dependency graph with "was the last edge an anti-dependency":
/// node `2v` is `v` reached by a ww or wr edge (or not yet reached), `2v + 1` is `v` reached
/// by an rw edge. An rw edge may leave only `2v`, so a cycle in this graph is a cycle of the
/// dependency graph in which no two rw edges are adjacent: exactly what snapshot isolation
/// forbids (Adya's G-SI, as Elle generalises it to G-nonadjacent). `members` holds
/// transactions (not product nodes).
pub struct Nonadjacent<'a> {
    pub graph: &'a Graph,
    pub members: &'a Members,
}

impl Successors for Nonadjacent<'_> {
    #[inline]
    fn successor(&self, v: u32, i: u32) -> Option<u32> {
        let (node, after_rw) = (v / 2, v % 2 == 1);
        let (targets, kinds) = self.graph.out(node);
        let (edge, as_rw) = ((i / 2) as usize, i % 2 == 1);
        if edge >= targets.len() {
            return None;
        }
        let k = kinds[edge];
        let t = targets[edge];
        if k & kind::DERIVED != 0 || !self.members.contains(t) {
            return Some(SKIP);
        }
        Some(if as_rw {
            if !after_rw && k & kind::RW != 0 {
                2 * t + 1
            } else {
                SKIP
            }
        } else if k & (kind::WW | kind::WR) != 0 {
            2 * t
        } else {
            SKIP
        })
    }
}

const UNSET: u32 = u32::MAX;

/// Reusable state for Tarjan's algorithm over node numbers below a fixed universe. Each run
/// costs time in the nodes and edges it reaches, not in the universe.
pub struct Tarjan {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    /// The component each node reached by the last run belongs to, numbered in the order
    /// components were completed (a reverse topological order of the condensation).
    component: Vec<u32>,
    stack: Vec<u32>,
    frames: Vec<(u32, u32)>,
    touched: Vec<u32>,
}

impl Tarjan {
    pub fn new(universe: usize) -> Tarjan {
        Tarjan {
            index: vec![UNSET; universe],
            low: vec![0; universe],
            on_stack: vec![false; universe],
            component: vec![UNSET; universe],
            stack: Vec::new(),
            frames: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// The components of the nodes reachable from `roots` that hold a cycle (two nodes or
    /// more: the graph has no self-edges), each sorted, in the order they were completed.
    pub fn components<G: Successors>(
        &mut self,
        graph: &G,
        roots: impl IntoIterator<Item = u32>,
    ) -> Vec<Vec<u32>> {
        for &v in &self.touched {
            self.index[v as usize] = UNSET;
            self.on_stack[v as usize] = false;
            self.component[v as usize] = UNSET;
        }
        self.touched.clear();
        let mut found = Vec::new();
        let mut next_index = 0u32;
        let mut next_component = 0u32;
        for root in roots {
            if self.index[root as usize] != UNSET {
                continue;
            }
            self.visit(root, &mut next_index);
            while let Some(&(v, i)) = self.frames.last() {
                match graph.successor(v, i) {
                    Some(w) => {
                        self.frames.last_mut().expect("a frame").1 += 1;
                        if w == SKIP {
                            continue;
                        }
                        if self.index[w as usize] == UNSET {
                            self.visit(w, &mut next_index);
                        } else if self.on_stack[w as usize] {
                            let lv = &mut self.low[v as usize];
                            *lv = (*lv).min(self.index[w as usize]);
                        }
                    }
                    None => {
                        self.frames.pop();
                        if self.low[v as usize] == self.index[v as usize] {
                            let mut members = Vec::new();
                            loop {
                                let w = self.stack.pop().expect("v is on the stack");
                                self.on_stack[w as usize] = false;
                                self.component[w as usize] = next_component;
                                members.push(w);
                                if w == v {
                                    break;
                                }
                            }
                            next_component += 1;
                            if members.len() > 1 {
                                members.sort_unstable();
                                found.push(members);
                            }
                        }
                        if let Some(&(parent, _)) = self.frames.last() {
                            let low_v = self.low[v as usize];
                            let lp = &mut self.low[parent as usize];
                            *lp = (*lp).min(low_v);
                        }
                    }
                }
            }
        }
        found
    }

    fn visit(&mut self, v: u32, next_index: &mut u32) {
        self.index[v as usize] = *next_index;
        self.low[v as usize] = *next_index;
        *next_index += 1;
        self.on_stack[v as usize] = true;
        self.stack.push(v);
        self.frames.push((v, 0));
        self.touched.push(v);
    }

    /// The component of `v` in the last run (in completion order), if the run reached it.
    pub fn component_of(&self, v: u32) -> Option<u32> {
        let c = self.component[v as usize];
        (c != UNSET).then_some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(graph: &Graph, mask: u8) -> Vec<Vec<u32>> {
        let members = Members::everything(graph.nodes());
        let p = Projection {
            graph,
            realtime: None,
            mask,
            derived: false,
            members: &members,
        };
        Tarjan::new(graph.nodes()).components(&p, 0..graph.nodes() as u32)
    }

    #[test]
    fn finds_cycles_by_kind() {
        // 0 -ww-> 1 -wr-> 2 -rw-> 0, and 3 -ww-> 4 -ww-> 3.
        let g = Graph::build(
            5,
            vec![
                (0, 1, kind::WW),
                (1, 2, kind::WR),
                (2, 0, kind::RW),
                (3, 4, kind::WW),
                (4, 3, kind::WW),
            ],
        );
        let mut sccs = all(&g, kind::DATA);
        sccs.sort();
        assert_eq!(sccs, vec![vec![0, 1, 2], vec![3, 4]]);
        assert_eq!(all(&g, kind::WW | kind::WR), vec![vec![3, 4]]);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 1_000_000u32;
        let mut edges: Vec<_> = (0..n - 1).map(|i| (i, i + 1, kind::WW)).collect();
        edges.push((n - 1, 0, kind::WW));
        let g = Graph::build(n as usize, edges);
        let sccs = all(&g, kind::WW);
        assert_eq!(sccs.len(), 1);
        assert_eq!(sccs[0].len(), n as usize);
    }

    #[test]
    fn nonadjacent_product_rejects_adjacent_anti_dependencies() {
        // Write skew: 0 -rw-> 1 -rw-> 0 has adjacent rw edges: no cycle in the product.
        let skew = Graph::build(2, vec![(0, 1, kind::RW), (1, 0, kind::RW)]);
        let members = Members::everything(2);
        let p = Nonadjacent {
            graph: &skew,
            members: &members,
        };
        assert!(Tarjan::new(4).components(&p, 0..4).is_empty());
        // G-single: 0 -rw-> 1 -ww-> 0 is a cycle.
        let single = Graph::build(2, vec![(0, 1, kind::RW), (1, 0, kind::WW)]);
        let p = Nonadjacent {
            graph: &single,
            members: &members,
        };
        assert_eq!(Tarjan::new(4).components(&p, 0..4).len(), 1);
    }
}
