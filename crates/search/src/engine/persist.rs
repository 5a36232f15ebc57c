//! A saved engine: one generation directory holding both indexes' dumps (`text.*`, `image.*`),
//! the filter fields of every case (`cases.json`), the lab profiles (`labs.json`) and, written
//! last so that a directory with one is complete, `header.json` with the model ids, counts and
//! the last change applied.
use super::Engine;
use crate::filter::CaseMeta;
use crate::index::{IndexError, IndexParams, VectorIndex};
use crate::labprofile::LabProfile;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, RwLock};

/// Model versions and counts, persisted beside the index files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub text_model: String,
    pub image_model: Option<String>,
    pub text_dim: usize,
    pub image_dim: usize,
    pub params: IndexParams,
    /// The last change from the database's change log applied to this index.
    pub last_change: i64,
    pub text_vectors: usize,
    pub image_vectors: usize,
    #[serde(default)]
    pub lab_profiles: usize,
    pub cases: usize,
    /// Unix seconds.
    pub built_at: i64,
}

pub const HEADER_FORMAT: u32 = 2;

impl Engine {
    /// Writes the indexes and the header into `dir` (which should not exist yet).
    pub fn save(&self, dir: &Path, last_change: i64) -> Result<Header, IndexError> {
        std::fs::create_dir_all(dir)?;
        self.text.save(dir, "text")?;
        self.image.save(dir, "image")?;
        let meta: Vec<(i64, CaseMeta)> = {
            let m = self.meta.read().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<(i64, CaseMeta)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
            v.sort_by_key(|(k, _)| *k);
            v
        };
        let stats = self.stats();
        let header = Header {
            format: HEADER_FORMAT,
            text_model: self.text_model.clone(),
            image_model: self.image_model.clone(),
            text_dim: self.text.dim(),
            image_dim: self.image.dim(),
            params: self.text.params(),
            last_change,
            text_vectors: stats.text.live,
            image_vectors: stats.image.live,
            lab_profiles: stats.labs,
            cases: stats.cases,
            built_at: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
        };
        std::fs::write(dir.join("cases.json"), to_json(&meta)?)?;
        let labs: Vec<(i64, LabProfile)> = {
            let m = self.labs.read().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<(i64, LabProfile)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
            v.sort_by_key(|(k, _)| *k);
            v
        };
        std::fs::write(dir.join("labs.json"), to_json(&labs)?)?;
        // The header goes last: a directory with a header is complete.
        std::fs::write(dir.join("header.json"), to_json(&header)?)?;
        Ok(header)
    }

    /// Reads just the header of a saved engine.
    pub fn read_header(dir: &Path) -> Result<Header, IndexError> {
        let bytes = std::fs::read(dir.join("header.json"))?;
        serde_json::from_slice(&bytes).map_err(|e| IndexError::Dump(format!("header: {e}")))
    }

    /// Loads what [`save`](Self::save) wrote.
    pub fn load(dir: &Path) -> Result<(Self, Header), IndexError> {
        let header = Self::read_header(dir)?;
        if header.format != HEADER_FORMAT {
            return Err(IndexError::Dump(format!("format {} (expected {HEADER_FORMAT})", header.format)));
        }
        let bytes = std::fs::read(dir.join("cases.json"))?;
        let meta: Vec<(i64, CaseMeta)> = serde_json::from_slice(&bytes).map_err(|e| IndexError::Dump(format!("cases: {e}")))?;
        let engine = Self {
            text_model: header.text_model.clone(),
            image_model: header.image_model.clone(),
            text: VectorIndex::load(dir, "text")?,
            image: VectorIndex::load(dir, "image")?,
            meta: RwLock::new(meta.into_iter().collect()),
            labs: RwLock::new(match std::fs::read(dir.join("labs.json")) {
                Ok(bytes) => {
                    serde_json::from_slice::<Vec<(i64, LabProfile)>>(&bytes).map_err(|e| IndexError::Dump(format!("labs: {e}")))?.into_iter().collect()
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
                Err(e) => return Err(e.into()),
            }),
            lab_sample: Mutex::new(None),
        };
        let s = engine.stats();
        if s.text.live != header.text_vectors || s.image.live != header.image_vectors || s.cases != header.cases || s.labs != header.lab_profiles {
            return Err(IndexError::Dump("index files disagree with their header".into()));
        }
        Ok((engine, header))
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, IndexError> {
    serde_json::to_vec(v).map_err(|e| IndexError::Dump(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tests::engine;

    #[test]
    fn save_load_round_trip() {
        let e = engine();
        let dir = std::env::temp_dir().join(format!("precedent-engine-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let h = e.save(&dir, 42).unwrap();
        let (back, h2) = Engine::load(&dir).unwrap();
        assert_eq!(h, h2);
        assert_eq!(h.last_change, 42);
        for id in e.case_ids() {
            let (a, b) = (e.case(id).unwrap(), back.case(id).unwrap());
            assert_eq!((a.meta, a.text, a.images), (b.meta, b.text, b.images));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn each_index_gets_the_links_its_dimension_needs_and_keeps_them_on_reload() {
        let params = IndexParams::default();
        let e = Engine::new("t@1".into(), Some("i@1".into()), (389, 128), params, 10);
        assert_eq!(e.text.params(), params);
        assert_eq!(e.image.params().max_connections, crate::index::LOW_DIM_CONNECTIONS);
        assert_eq!(e.image.params().ef_construction, params.ef_construction);
        // The scan graph, with fewer links, is searched wider.
        assert_eq!(e.text.breadth(64), 64);
        assert_eq!(e.image.breadth(64), 64 * crate::index::LOW_DIM_EF_FACTOR);
        let dir = std::env::temp_dir().join(format!("precedent-engine-params-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        e.save(&dir, 0).unwrap();
        let (back, _) = Engine::load(&dir).unwrap();
        assert_eq!((back.text.params(), back.image.params()), (e.text.params(), e.image.params()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
