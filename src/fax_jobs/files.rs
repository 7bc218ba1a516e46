//! Files of faxes and Fax Documents in the data directory's fax/: each fax and document has
//! its own names (`{tenant}/{kind}-{uuid}.{ext}`), so deleting one (a document, a fax at
//! the end of its retention) never takes another's file.

use std::path::{Path, PathBuf};

use crate::store::TenantId;

/// The new files of one fax or document: one name, with the extension of each.
pub struct Files {
    pub dir: PathBuf,
    pub name: String,
}

impl Files {
    pub fn new(fax_dir: &Path, tenant: TenantId, kind: &str) -> Files {
        Files { dir: fax_dir.to_path_buf(), name: format!("{}/{kind}-{}", tenant.0, uuid::Uuid::new_v4()) }
    }

    fn path(&self, ext: &str) -> Result<(String, PathBuf), String> {
        let rel = format!("{}.{ext}", self.name);
        let path = self.dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        Ok((rel, path))
    }

    /// Writes `bytes` as the file with extension `ext`; its name relative to the directory.
    pub fn write(&self, bytes: &[u8], ext: &str) -> Result<String, String> {
        let (rel, path) = self.path(ext)?;
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(rel)
    }

    /// A new name for an existing file of the directory (a hard link, else a copy).
    pub fn link(&self, existing: &str, ext: &str) -> Result<String, String> {
        let (rel, path) = self.path(ext)?;
        let from = self.dir.join(existing);
        std::fs::hard_link(&from, &path).or_else(|_| std::fs::copy(&from, &path).map(drop)).map_err(|e| format!("{}: {e}", from.display()))?;
        Ok(rel)
    }

    /// Removes the files named (relative to the directory), as far as they exist.
    pub fn remove(&self, names: &[&str]) {
        for n in names.iter().filter(|n| !n.is_empty()) {
            let _ = std::fs::remove_file(self.dir.join(n));
        }
    }
}

/// A file of the fax directory (`rel` as the store names it), read whole.
pub fn read(fax_dir: &Path, rel: &str) -> Result<Vec<u8>, String> {
    let path = fax_dir.join(rel);
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}
