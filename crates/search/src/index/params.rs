//! The graph's parameters (hnsw `M`, `ef_construction`, `ef`), how they change with the vectors'
//! dimension, and what each link costs in memory.

/// Graph parameters.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct IndexParams {
    /// Neighbours kept per point and layer (hnsw `M`).
    pub max_connections: usize,
    /// Candidate list size while building.
    pub ef_construction: usize,
    /// Candidate list size while searching (raised to at least `k`).
    pub ef_search: usize,
}

impl Default for IndexParams {
    fn default() -> Self {
        // M 12: at 100k × 384 the best q/s at recall@10 ≥ 0.99 of M 8, 12 and 16 (docs/benchmarks.md).
        Self { max_connections: 12, ef_construction: 200, ef_search: 64 }
    }
}

/// Vectors of at most this many dimensions get at most [`LOW_DIM_CONNECTIONS`] links per point.
pub const LOW_DIM: usize = 256;
/// M for vectors of at most [`LOW_DIM`] dimensions.
pub const LOW_DIM_CONNECTIONS: usize = 8;
/// How much wider the search beam of a graph with at most [`LOW_DIM_CONNECTIONS`] links per
/// point is (`VectorIndex::breadth`): `bench ann --n 100000 --dim 128` gives M 8 at 2× ef the
/// recall of M 12 at ef (0.953 at ef 128 against 0.947 at ef 64; 0.981 at 512 against 256).
pub const LOW_DIM_EF_FACTOR: usize = 2;

impl IndexParams {
    /// These parameters as used for `dim`-dimensional vectors: M is capped at
    /// [`LOW_DIM_CONNECTIONS`] up to [`LOW_DIM`] dimensions. Every link costs hnsw_rs 40 bytes
    /// or more, and the 128-d scan index holds two or three points per case: M 8 keeps the index
    /// under 1 GB per 100k cases, and searching it [`LOW_DIM_EF_FACTOR`] times wider keeps the
    /// recall of M 12 (docs/benchmarks.md, "Index memory and the allocator").
    pub fn for_dim(self, dim: usize) -> Self {
        if dim <= LOW_DIM {
            Self { max_connections: self.max_connections.min(LOW_DIM_CONNECTIONS), ..self }
        } else {
            self
        }
    }
}

/// Memory per neighbour slot of an hnsw_rs point beyond its vector, measured (jemalloc):
/// 100k 384-d points at M = 12 took 425 MB, of which 154 MB are vectors and 54 MB the walk's
/// copy (docs/benchmarks.md): 217 MB over 24 slots per point.
pub const GRAPH_BYTES_PER_LINK: u64 = 90;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_dimensional_vectors_get_fewer_links() {
        let p = IndexParams::default();
        assert_eq!(p.for_dim(384), p);
        assert_eq!(p.for_dim(LOW_DIM + 1), p);
        assert_eq!(p.for_dim(LOW_DIM).max_connections, LOW_DIM_CONNECTIONS);
        assert_eq!(p.for_dim(128), IndexParams { max_connections: LOW_DIM_CONNECTIONS, ..p });
        // A smaller M is kept as it is.
        let small = IndexParams { max_connections: 4, ..p };
        assert_eq!(small.for_dim(128), small);
    }
}
