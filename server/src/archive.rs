//! Unpacking an uploaded case-library archive (`.zip`, `.tar.gz`/`.tgz` or `.tar`) into a
//! folder `precedent_library::open` can read. Hostile archives are refused, not trusted: only
//! plain files and folders under the destination (no absolute paths, `..`, links or devices),
//! a cap on the unpacked bytes and on the number of entries.
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the file is not a .zip, .tar.gz or .tar archive")]
    UnknownFormat,
    #[error("the archive is damaged: {0}")]
    Damaged(String),
    #[error("the archive holds an unsafe entry “{0}” (absolute path, “..”, link or device)")]
    Unsafe(String),
    #[error("the archive unpacks to more than {0} MB")]
    TooLarge(u64),
    #[error("the archive holds more than {0} entries")]
    TooManyEntries(usize),
    #[error("the archive has no cases.jsonl (or MedPix cases.csv) at its top level or in its one top-level folder")]
    NoLibrary,
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Caps on what an archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_entries: usize,
}

/// A relative path made only of normal components, or `None`.
fn safe_path(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

struct Budget {
    limits: Limits,
    bytes: u64,
    entries: usize,
}

impl Budget {
    fn entry(&mut self) -> Result<(), ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ArchiveError::TooManyEntries(self.limits.max_entries));
        }
        Ok(())
    }

    /// Copies `from` into a new file at `to`, counting (and capping) the bytes.
    fn write(&mut self, from: &mut dyn Read, to: &Path) -> Result<(), ArchiveError> {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = File::create(to)?;
        let left = self.limits.max_bytes - self.bytes;
        let mut limited = from.take(left + 1);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = limited.read(&mut buf).map_err(|e| ArchiveError::Damaged(e.to_string()))?;
            if n == 0 {
                break;
            }
            self.bytes += n as u64;
            if self.bytes > self.limits.max_bytes {
                return Err(ArchiveError::TooLarge(self.limits.max_bytes / (1024 * 1024)));
            }
            out.write_all(&buf[..n])?;
        }
        Ok(())
    }
}

/// Unpacks `archive` into `dest` (created) and returns the library folder inside it.
pub fn unpack(archive: &Path, dest: &Path, limits: Limits) -> Result<PathBuf, ArchiveError> {
    std::fs::create_dir_all(dest)?;
    let mut f = File::open(archive)?;
    let mut magic = [0u8; 512];
    let n = read_up_to(&mut f, &mut magic)?;
    f.rewind()?;
    let mut budget = Budget { limits, bytes: 0, entries: 0 };
    if n >= 4 && magic[..4] == *b"PK\x03\x04" {
        unzip(f, dest, &mut budget)?;
    } else if n >= 2 && magic[..2] == [0x1f, 0x8b] {
        untar(flate2::read::GzDecoder::new(f), dest, &mut budget)?;
    } else if n >= 262 && &magic[257..262] == b"ustar" {
        untar(f, dest, &mut budget)?;
    } else {
        return Err(ArchiveError::UnknownFormat);
    }
    library_root(dest)
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let r = f.read(&mut buf[n..])?;
        if r == 0 {
            break;
        }
        n += r;
    }
    Ok(n)
}

fn unzip(f: File, dest: &Path, budget: &mut Budget) -> Result<(), ArchiveError> {
    let mut zip = zip::ZipArchive::new(f).map_err(|e| ArchiveError::Damaged(e.to_string()))?;
    if zip.len() > budget.limits.max_entries {
        return Err(ArchiveError::TooManyEntries(budget.limits.max_entries));
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| ArchiveError::Damaged(e.to_string()))?;
        budget.entry()?;
        let name = entry.name().to_string();
        if entry.is_symlink() {
            return Err(ArchiveError::Unsafe(name));
        }
        let rel = safe_path(&name).ok_or_else(|| ArchiveError::Unsafe(name.clone()))?;
        if entry.is_dir() {
            std::fs::create_dir_all(dest.join(rel))?;
        } else {
            budget.write(&mut entry, &dest.join(rel))?;
        }
    }
    Ok(())
}

fn untar(r: impl Read, dest: &Path, budget: &mut Budget) -> Result<(), ArchiveError> {
    let mut tar = tar::Archive::new(r);
    for entry in tar.entries().map_err(|e| ArchiveError::Damaged(e.to_string()))? {
        let mut entry = entry.map_err(|e| ArchiveError::Damaged(e.to_string()))?;
        budget.entry()?;
        let name = entry.path().map_err(|e| ArchiveError::Damaged(e.to_string()))?.to_string_lossy().to_string();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
            continue;
        }
        let rel = safe_path(&name).ok_or_else(|| ArchiveError::Unsafe(name.clone()))?;
        if kind.is_dir() {
            std::fs::create_dir_all(dest.join(rel))?;
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            budget.write(&mut entry, &dest.join(rel))?;
        } else {
            return Err(ArchiveError::Unsafe(name));
        }
    }
    Ok(())
}

fn is_library(dir: &Path) -> bool {
    dir.join("cases.jsonl").is_file() || (dir.join("cases.csv").is_file() && dir.join("images.csv").is_file())
}

/// `dest` itself, or its only sub-folder, when it holds a library (macOS' `__MACOSX` ignored).
fn library_root(dest: &Path) -> Result<PathBuf, ArchiveError> {
    if is_library(dest) {
        return Ok(dest.to_path_buf());
    }
    let dirs: Vec<PathBuf> =
        std::fs::read_dir(dest)?.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != "__MACOSX").map(|e| e.path()).collect();
    match dirs.as_slice() {
        [one] if is_library(one) => Ok(one.clone()),
        _ => Err(ArchiveError::NoLibrary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { max_bytes: 1024 * 1024, max_entries: 100 };

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            for (name, bytes) in entries {
                w.start_file(*name, opts).unwrap();
                w.write_all(bytes).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    fn tar_gz_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, bytes) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            // set_path refuses "..": write the raw name, as a hostile archive would.
            let raw = &mut h.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *bytes).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    fn unpack_bytes(bytes: &[u8], limits: Limits) -> (tempfile::TempDir, Result<PathBuf, ArchiveError>) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("upload");
        std::fs::write(&path, bytes).unwrap();
        let r = unpack(&path, &tmp.path().join("out"), limits);
        (tmp, r)
    }

    #[test]
    fn zip_and_tar_gz_libraries_unpack_to_their_folder() {
        let files: &[(&str, &[u8])] = &[("lib/cases.jsonl", b"{}\n"), ("lib/images/a.png", b"png")];
        for bytes in [zip_of(files), tar_gz_of(files)] {
            let (_tmp, r) = unpack_bytes(&bytes, LIMITS);
            let root = r.unwrap();
            assert!(root.ends_with("out/lib"), "{root:?}");
            assert_eq!(std::fs::read(root.join("images/a.png")).unwrap(), b"png");
        }
        let (_tmp, r) = unpack_bytes(&zip_of(&[("cases.jsonl", b"{}\n")]), LIMITS);
        assert!(r.unwrap().ends_with("out"));
    }

    #[test]
    fn hostile_archives_are_refused() {
        for bytes in [zip_of(&[("../evil.txt", b"x")]), tar_gz_of(&[("../evil.txt", b"x")]), zip_of(&[("/etc/evil", b"x")])] {
            let (tmp, r) = unpack_bytes(&bytes, LIMITS);
            assert!(matches!(r, Err(ArchiveError::Unsafe(_))), "{r:?}");
            assert!(!tmp.path().join("evil.txt").exists());
        }
        // A zip bomb: small compressed, large unpacked.
        let big = vec![0u8; 2 * 1024 * 1024];
        let (_tmp, r) = unpack_bytes(&zip_of(&[("cases.jsonl", &big)]), LIMITS);
        assert!(matches!(r, Err(ArchiveError::TooLarge(1))), "{r:?}");
        let many: Vec<(String, &[u8])> = (0..150).map(|i| (format!("f{i}"), &b"x"[..])).collect();
        let refs: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let (_tmp, r) = unpack_bytes(&zip_of(&refs), LIMITS);
        assert!(matches!(r, Err(ArchiveError::TooManyEntries(100))), "{r:?}");
        let (_tmp, r) = unpack_bytes(b"hello, not an archive", LIMITS);
        assert!(matches!(r, Err(ArchiveError::UnknownFormat)));
        let (_tmp, r) = unpack_bytes(&zip_of(&[("readme.txt", b"x")]), LIMITS);
        assert!(matches!(r, Err(ArchiveError::NoLibrary)));
    }
}
