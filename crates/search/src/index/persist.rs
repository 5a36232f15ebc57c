//! One index on disk: the hnsw_rs dump of the graph (`<name>.hnsw.graph`, `<name>.hnsw.data`)
//! beside our point table (`<name>.points`: dimension, parameters, each point's item and whether
//! it is live), and the way back, sharing the reloaded graph's vectors.
use super::points::{Item, Points, Stored};
use super::{IndexError, IndexParams, VectorIndex};
use crate::vector::CosineDistance;
use crate::walk::Snapshot;
use hnsw_rs::prelude::{AnnT, Hnsw, HnswIo};
use std::path::Path;
use std::sync::{Arc, RwLock};

impl VectorIndex {
    /// Writes the graph (hnsw_rs dump: `<name>.hnsw.graph`, `<name>.hnsw.data`) and the point
    /// table (`<name>.points`) into `dir`, which should be new and empty.
    pub fn save(&self, dir: &Path, name: &str) -> Result<(), IndexError> {
        std::fs::create_dir_all(dir)?;
        let p = self.read();
        if !p.items.is_empty() {
            let used = self.graph.file_dump(dir, name).map_err(|e| IndexError::Dump(e.to_string()))?;
            if used != name {
                return Err(IndexError::Dump(format!("hnsw_rs wrote {used} instead of {name} (directory not empty)")));
            }
        }
        let table = PointTable { dim: self.dim, params: self.params, items: p.items.clone(), live: p.live.clone() };
        let bytes = serde_json::to_vec(&table).map_err(|e| IndexError::Dump(e.to_string()))?;
        std::fs::write(dir.join(format!("{name}.points")), bytes)?;
        Ok(())
    }

    /// Loads what [`save`](Self::save) wrote.
    pub fn load(dir: &Path, name: &str) -> Result<Self, IndexError> {
        let bytes = std::fs::read(dir.join(format!("{name}.points")))?;
        let table: PointTable = serde_json::from_slice(&bytes).map_err(|e| IndexError::Dump(e.to_string()))?;
        if table.items.len() != table.live.len() {
            return Err(IndexError::Dump("point table is inconsistent".into()));
        }
        if table.items.is_empty() {
            return Ok(Self::new(table.dim, 0, table.params));
        }
        // The reloaded graph borrows its loader for its lifetime (for memory-mapped data, which
        // we do not use): the loader is a few bytes, kept for the life of the process.
        let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(dir, name)));
        let graph: Hnsw<'static, f32, CosineDistance> = io.load_hnsw().map_err(|e| IndexError::Dump(e.to_string()))?;
        let dim = table.dim;
        let n = table.items.len();
        let mut stored: Vec<Stored> = (0..n).map(|_| Stored::Dropped).collect();
        for point in graph.get_point_indexation() {
            let id = point.get_origin_id();
            if id >= n || point.get_v().len() != dim {
                return Err(IndexError::Dump(format!("graph point {id} does not match the point table")));
            }
            stored[id] = Stored::Graph(point);
        }
        let mut p = Points { items: table.items, live: table.live, stored, ..Points::default() };
        for id in 0..n {
            if p.live[id] {
                if matches!(p.stored[id], Stored::Dropped) {
                    return Err(IndexError::Dump(format!("live point {id} is missing from the graph")));
                }
                let item = p.items[id];
                p.by_key.insert(item.key, id);
                p.by_case.entry(item.case).or_default().push(id);
            } else {
                p.stored[id] = Stored::Dropped;
            }
        }
        let snapshot = RwLock::new(Arc::new(Snapshot::of(&graph, n, dim)));
        Ok(Self { dim, params: table.params, graph, points: RwLock::new(p), snapshot, sample: Default::default() })
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PointTable {
    dim: usize,
    params: IndexParams,
    items: Vec<Item>,
    live: Vec<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::{items, vectors};

    #[test]
    fn save_and_load_round_trip_then_keep_inserting() {
        let vs = vectors(300, 24, 4);
        let idx = VectorIndex::build(24, IndexParams::default(), items(&vs[..250])).unwrap();
        idx.remove(5);
        let dir = std::env::temp_dir().join(format!("precedent-index-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        idx.save(&dir, "text").unwrap();
        let back = VectorIndex::load(&dir, "text").unwrap();
        assert_eq!(back.stats(), idx.stats());
        assert_eq!(back.live_items(), idx.live_items());
        for (i, v) in vs[250..].iter().enumerate() {
            back.upsert(Item { key: 250 + i as i64, case: 999 }, v).unwrap();
        }
        assert_eq!(back.search(&vs[260], 1, 64, None, &[])[0].item.key, 260);
        assert_eq!(back.search(&vs[100], 1, 64, None, &[])[0].item.key, 100);
        assert!(back.search(&vs[5], 10, 64, None, &[]).iter().all(|h| h.item.key != 5));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
