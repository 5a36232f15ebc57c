//! Content-addressed file store: bytes are written (temp file, fsync, rename) *before* any row
//! names them, so a crash can leave an unreferenced file but never a row without its bytes.
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BlobStore {
    pub fn open(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, sha: &str) -> Option<PathBuf> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return None;
        }
        Some(self.root.join(&sha[..2]).join(&sha[2..4]).join(sha))
    }

    /// Stores `bytes` durably and returns their sha256. Idempotent.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.path_of(&sha).expect("sha256_hex yields a valid name");
        if path.exists() {
            return Ok(sha);
        }
        let dir = path.parent().expect("blob path has a parent");
        std::fs::create_dir_all(dir)?;
        let tmp = self.root.join("tmp").join(format!("{}.{}", sha, uuid::Uuid::new_v4()));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(sha)
    }

    /// Reads the bytes named by `sha`, checking them against their name.
    pub fn get(&self, sha: &str) -> std::io::Result<Vec<u8>> {
        let path = self.path_of(sha).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "invalid blob name"))?;
        let bytes = std::fs::read(path)?;
        if sha256_hex(&bytes) != sha {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("blob {sha} fails its checksum")));
        }
        Ok(bytes)
    }

    pub fn contains(&self, sha: &str) -> bool {
        self.path_of(sha).map(|p| p.exists()).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_round_trip_and_checksum() {
        let dir = std::env::temp_dir().join(format!("precedent-blobs-{}", uuid::Uuid::new_v4()));
        let store = BlobStore::open(&dir).unwrap();
        let sha = store.put(b"hello").unwrap();
        assert_eq!(sha, sha256_hex(b"hello"));
        assert_eq!(store.put(b"hello").unwrap(), sha);
        assert_eq!(store.get(&sha).unwrap(), b"hello");
        assert!(store.get("../../etc/passwd").is_err());
        // Corrupt the file: reading it must fail, not return wrong bytes.
        let path = store.path_of(&sha).unwrap();
        std::fs::write(&path, b"jello").unwrap();
        assert!(store.get(&sha).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
