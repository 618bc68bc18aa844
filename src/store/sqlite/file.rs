//! The database file itself: created private, with errors that name the usual mistakes.

use std::path::Path;

/// Creates a missing database file readable by its owner only (0600): it holds password and
/// token hashes. SQLite gives the `-wal` and `-shm` files the main file's permissions. The errors
/// say which of the usual mistakes it is, since SQLite's own is only "unable to open database file".
pub(super) fn create_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    if path.as_os_str().is_empty() {
        anyhow::bail!(
            "the SQLite URL names no file: use sqlite://PATH, e.g. sqlite://./postbase.db"
        );
    }
    if path.is_dir() {
        anyhow::bail!(
            "{shown} is a directory: name a file in it, e.g. sqlite://{}/postbase.db",
            shown.to_string().trim_end_matches('/')
        );
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        anyhow::bail!(
            "the directory {} does not exist: create it first (mkdir -p {0}) or choose another path",
            parent.display()
        );
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
                        "{shown} cannot be opened for writing: permission denied (check its owner and mode)"
                    ),
                    _ => anyhow::anyhow!("cannot open {shown}: {e}"),
                })?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => anyhow::bail!(
            "cannot create {shown}: no permission to write in the directory {} (check its owner \
             and mode, or choose another path)",
            parent.display()
        ),
        Err(e) => anyhow::bail!("cannot create {shown}: {e}"),
    }
}

/// Copies the database at `path` into `to` (which must not exist), consistently and compactly,
/// while it is being served: `VACUUM INTO` reads one snapshot of the database, WAL included, so
/// every write committed before it began is in the copy and none after. The copy is checked with
/// `PRAGMA integrity_check` before this returns.
pub fn backup(path: &Path, to: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if !path.is_file() {
        anyhow::bail!("there is no SQLite database at {}", path.display());
    }
    // Created empty and private first: the copy holds password and token hashes.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", to.display()))?;
    let copied = (|| -> rusqlite::Result<String> {
        let source = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        source.busy_timeout(std::time::Duration::from_secs(5))?;
        source.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
        let copy = rusqlite::Connection::open(to)?;
        copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))
    })();
    match copied {
        Ok(check) if check == "ok" => Ok(()),
        Ok(check) => {
            let _ = std::fs::remove_file(to);
            anyhow::bail!("the copy failed its integrity check: {check}")
        }
        Err(e) => {
            let _ = std::fs::remove_file(to);
            anyhow::bail!("copying {} to {}: {e}", path.display(), to.display())
        }
    }
}
