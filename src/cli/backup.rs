//! `backup --to FILE`: a consistent copy of a running SQLite instance, and how to restore it.

use crate::config::BackupArgs;
use crate::store;

pub(super) async fn run(args: BackupArgs) -> anyhow::Result<()> {
    let url = &args.database.database_url;
    let Some(path) = store::sqlite_path(url) else {
        anyhow::bail!(
            "backup copies a SQLite database; for PostgreSQL use its own tools \
             (`pg_dump -Fc`, restored with `pg_restore`) or `postbase export` (restored with \
             `postbase import`, into SQLite or PostgreSQL)"
        );
    };
    let (path, to) = (std::path::PathBuf::from(path), args.to.clone());
    tokio::task::spawn_blocking(move || store::sqlite::backup(&path, &to)).await??;
    println!("backed up {} to {}", path_of(url), args.to.display());
    println!(
        "to restore: stop postbase, remove {0}-wal and {0}-shm if present, copy {1} to {0}, start postbase",
        path_of(url),
        args.to.display()
    );
    Ok(())
}

fn path_of(url: &str) -> &str {
    store::sqlite_path(url).unwrap_or(url)
}
