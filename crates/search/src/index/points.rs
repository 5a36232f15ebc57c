//! The point table: what each graph point stands for (an [`Item`] of a case), whether it is
//! still live, and where its vector is kept. hnsw_rs cannot delete, so a superseded or removed
//! item leaves its point dead here; dense point ids `0..n` follow insertion order.
use hnsw_rs::hnsw::Point;
use std::collections::HashMap;
use std::sync::Arc;

/// What a graph point stands for: an item (an image id, or a case id for case text) of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Item {
    pub key: i64,
    pub case: i64,
}

/// A search result: the item, its case and its exact cosine to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItemHit {
    pub item: Item,
    pub cosine: f32,
}

/// A point's vector: the graph's own copy (hnsw_rs keeps one per point; sharing it halves the
/// index's memory), or ours until the graph's point has been looked up.
pub(super) enum Stored {
    Graph(Arc<Point<'static, f32>>),
    Pending(Vec<f32>),
    Dropped,
}

#[derive(Default)]
pub(super) struct Points {
    pub(super) items: Vec<Item>,
    pub(super) live: Vec<bool>,
    pub(super) stored: Vec<Stored>,
    /// How many entries of `stored` are `Pending`.
    pub(super) pending: usize,
    /// Live point of each item key.
    pub(super) by_key: HashMap<i64, usize>,
    /// Live points of each case.
    pub(super) by_case: HashMap<i64, Vec<usize>>,
    /// Bumped whenever the set of cases with live points may have changed.
    pub(super) cases_version: u64,
}

impl Points {
    pub(super) fn vector(&self, id: usize) -> &[f32] {
        match &self.stored[id] {
            Stored::Graph(p) => p.get_v(),
            Stored::Pending(v) => v,
            Stored::Dropped => &[],
        }
    }

    pub(super) fn push(&mut self, item: Item, vector: &[f32]) -> usize {
        if let Some(old) = self.by_key.get(&item.key).copied() {
            self.kill(old);
        }
        let id = self.items.len();
        self.items.push(item);
        self.live.push(true);
        self.stored.push(Stored::Pending(vector.to_vec()));
        self.pending += 1;
        self.by_key.insert(item.key, id);
        self.by_case.entry(item.case).or_default().push(id);
        self.cases_version += 1;
        id
    }

    pub(super) fn kill(&mut self, point: usize) {
        if !self.live[point] {
            return;
        }
        self.live[point] = false;
        if matches!(self.stored[point], Stored::Pending(_)) {
            self.pending -= 1;
        }
        self.stored[point] = Stored::Dropped;
        self.cases_version += 1;
        let item = self.items[point];
        self.by_key.remove(&item.key);
        if let Some(v) = self.by_case.get_mut(&item.case) {
            v.retain(|p| *p != point);
            if v.is_empty() {
                self.by_case.remove(&item.case);
            }
        }
    }
}
