//! The database under the server: the SQLite file checked as the kill left it, and the PostgreSQL
//! databases made (and dropped) one per generation.

use std::path::Path;

/// The file as the kill left it, checked by SQLite itself. Opened read-only so that closing this
/// connection does not checkpoint the WAL: the restarted server must do its own recovery.
pub(crate) fn check_file(db: &Path) -> Result<(), String> {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("opening {}: {e}", db.display()))?;
    let rows: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("integrity_check: {e}"))?;
    if rows != ["ok"] {
        return Err(format!("integrity_check: {rows:?}"));
    }
    let broken = conn
        .prepare("PRAGMA foreign_key_check")
        .and_then(|mut s| Ok(s.query_map([], |_| Ok(()))?.count()))
        .map_err(|e| format!("foreign_key_check: {e}"))?;
    if broken != 0 {
        return Err(format!("foreign_key_check: {broken} dangling rows"));
    }
    Ok(())
}

/// Runs one statement on the PostgreSQL server's maintenance database.
pub(crate) async fn admin_sql(server: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("--postgres {server}: {e}"));
    let task = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = task.await;
}

/// The server URL with its database replaced by `name`.
pub(crate) fn with_database(server: &str, name: &str) -> String {
    let (url, query) = server.split_once('?').map_or((server, ""), |(u, q)| (u, q));
    let start = url.find("://").map_or(0, |i| i + 3);
    let base = url[start..]
        .find('/')
        .map_or(url, |slash| &url[..start + slash]);
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}
