//! The data directory on disk, owner-only: it holds `switchboard.db` and its `-wal`/`-shm`
//! (SIP, trunk and provisioning secrets in clear), the token signing keys, the mod_xml_curl
//! password and the tenants' music on hold.
//!
//! [`secure`] runs before anything is opened: every directory below it is 0700 and every
//! file 0600 (files an older version left 0644 too), and the process umask is 077, so what
//! switchboard creates afterwards (SQLite's `-wal`/`-shm`, which SQLite also gives the
//! database's own mode, the keys, uploads) is owner-only from the start.
//!
//! One exception: music on hold ([`MOH`]) and the uploaded recordings ([`SOUNDS`]) are played by FreeSWITCH from where switchboard
//! stores it, and a packaged FreeSWITCH runs as its own user. So the data directory itself
//! is 0711 (others may pass through it to a path they know, never list it) and the music's
//! directories 0755 and files 0644: it is audio a caller hears, not a secret.

use std::io;
use std::path::Path;

/// Owner-only modes for the data directory and everything in it, now and for what the
/// process creates from here on. Symbolic links are left as they are (not followed).
pub fn secure(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        // SAFETY: umask only swaps the process's file-creation mask; it cannot fail.
        unsafe { libc::umask(0o077) };
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        tighten(dir)?;
        set_mode(dir, 0o711)?;
        share_moh(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Where music on hold is kept, under the data directory.
pub const MOH: &str = "moh";

/// Uploaded system recordings (IVR and voicemail greetings), played by FreeSWITCH from
/// here like the music on hold: `sounds/<tenant>/<file>`.
pub const SOUNDS: &str = "sounds";

/// Where faxes (received and sent, their PDFs and TIFFs) and Fax Documents are kept, under
/// the data directory, a directory per tenant.
pub const FAX: &str = "fax";

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::symlink_metadata(p)?.permissions().mode();
    if current & 0o7777 != mode {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| io::Error::new(e.kind(), format!("setting the mode of {}: {e}", p.display())))?;
    }
    Ok(())
}

/// Every directory below `dir` 0700 and every file 0600; links are not followed.
#[cfg(unix)]
fn tighten(dir: &Path) -> io::Result<()> {
    walk(dir, 0o700, 0o600)
}

#[cfg(unix)]
fn walk(dir: &Path, dirs: u32, files: u32) -> io::Result<()> {
    set_mode(dir, dirs)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        let path = entry.path();
        if meta.is_dir() {
            walk(&path, dirs, files)?;
        } else if meta.is_file() {
            set_mode(&path, files)?;
        }
    }
    Ok(())
}

/// Makes what FreeSWITCH plays from under `data_dir` (the music on hold, the uploaded
/// recordings) readable by it (directories 0755, files 0644); run at start and after each
/// upload, whose new directories and temporary file the umask made owner-only.
pub fn share_moh(data_dir: &Path) -> io::Result<()> {
    for sub in [MOH, SOUNDS] {
        let dir = data_dir.join(sub);
        if !dir.is_dir() {
            continue;
        }
        #[cfg(unix)]
        walk(&dir, 0o755, 0o644)?;
    }
    Ok(())
}

/// Writes a new file that only the owner may read (0600 whatever the umask), replacing none:
/// an existing file is an error.
pub fn create_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(contents)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn existing_files_and_directories_become_owner_only() {
        let dir = std::env::temp_dir().join(format!("sb-datadir-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("moh/1/2")).unwrap();
        for (p, m) in [("switchboard.db", 0o644), ("switchboard.db-wal", 0o664), ("moh/1/2/a.wav", 0o644)] {
            std::fs::write(dir.join(p), b"x").unwrap();
            std::fs::set_permissions(dir.join(p), std::fs::Permissions::from_mode(m)).unwrap();
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.join("moh/1"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let outside = dir.with_extension("outside");
        std::fs::write(&outside, b"x").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
        std::fs::create_dir_all(dir.join("keys")).unwrap();
        std::fs::set_permissions(dir.join("keys"), std::fs::Permissions::from_mode(0o755)).unwrap();
        // secure() sets the process's umask: give this test process its own back after.
        let umask = unsafe { libc::umask(0o022) };
        secure(&dir).unwrap();
        unsafe { libc::umask(umask) };
        assert_eq!(mode(&dir), 0o711, "passable, not listable");
        assert_eq!(mode(&dir.join("keys")), 0o700);
        for f in ["switchboard.db", "switchboard.db-wal"] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
        // Music on hold is FreeSWITCH's to read, whichever user it runs as.
        for d in ["moh", "moh/1", "moh/1/2"] {
            assert_eq!(mode(&dir.join(d)), 0o755, "{d}");
        }
        assert_eq!(mode(&dir.join("moh/1/2/a.wav")), 0o644);
        assert_eq!(mode(&outside), 0o644, "a link's target outside is not touched");
        create_private(&dir.join("secret"), b"pw").unwrap();
        assert_eq!(mode(&dir.join("secret")), 0o600);
        assert!(create_private(&dir.join("secret"), b"other").is_err(), "never replaced");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&outside).unwrap();
    }
}
