//! The bare reference server of the postbase benchmark (issue 5).
//!
//! axum + rusqlite on postbase's SQLite schema, with the least code that does
//! the two things it is compared on: `GET /api/posts/{id}` (a point read) and
//! `POST /api/posts` (a single-row insert). No auth, no validation, no
//! logging, no middleware: what is left is the cost of the stack itself, so
//! `postbase ÷ bare` in the bench table is postbase's own overhead.
//!
//! Reads run on a small pool of connections inside `spawn_blocking` (or, with `BARE_READS=inline`,
//! right on the async worker, as postbase does: a point read from the page cache is shorter than
//! the two thread hand-offs of `spawn_blocking`). Writes go
//! to one connection owned by one thread (SQLite has a single writer anyway),
//! one transaction per insert, answered after the commit. Durability is
//! postbase's: WAL + synchronous=NORMAL.
//!
//! Usage: `postbase-bare-ref ADDR DB_PATH` (or env `BARE_ADDR`, `BARE_DB`).

use std::sync::{mpsc, Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// Connections kept for reads; more would only contend for 2 cores.
const READ_POOL: usize = 4;

const SELECT_POST: &str = "SELECT id, title, body, author_id, version, created_at, updated_at \
                           FROM posts WHERE id = ?1";
const INSERT_POST: &str =
    "INSERT INTO posts (author_id, title, body, version, created_at, updated_at) \
                           VALUES (?1, ?2, ?3, 1, ?4, ?4)";

#[derive(Serialize)]
struct Post {
    id: i64,
    title: String,
    body: String,
    author_id: i64,
    created_at: String,
    updated_at: String,
}

#[derive(Deserialize)]
struct NewPost {
    title: String,
    #[serde(default)]
    body: String,
    /// No auth here, so the author comes from the body (default: user 1).
    #[serde(default = "first_user")]
    author_id: i64,
}

fn first_user() -> i64 {
    1
}

type InsertReply = oneshot::Sender<rusqlite::Result<Post>>;

struct AppState {
    path: String,
    /// `BARE_READS=inline`: run reads on the async worker instead of in `spawn_blocking`.
    inline_reads: bool,
    readers: Mutex<Vec<Connection>>,
    writer: mpsc::Sender<(NewPost, InsertReply)>,
}

fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
    )?;
    Ok(conn)
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Unix microseconds -> RFC 3339 UTC with microseconds, e.g. `2026-11-25T12:00:00.123456Z`.
fn rfc3339(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn read_post(state: &AppState, id: i64) -> rusqlite::Result<Option<(Post, i64)>> {
    let pooled = state.readers.lock().ok().and_then(|mut pool| pool.pop());
    let conn = match pooled {
        Some(conn) => conn,
        None => open(&state.path)?,
    };
    let result = conn
        .prepare_cached(SELECT_POST)?
        .query_row([id], |r| {
            Ok((
                Post {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    body: r.get(2)?,
                    author_id: r.get(3)?,
                    created_at: rfc3339(r.get(5)?),
                    updated_at: rfc3339(r.get(6)?),
                },
                r.get(4)?,
            ))
        })
        .optional();
    if let Ok(mut pool) = state.readers.lock() {
        if pool.len() < READ_POOL {
            pool.push(conn);
        }
    }
    result
}

/// The one writer: owns its connection, one autocommit INSERT per request.
fn writer_loop(conn: Connection, jobs: mpsc::Receiver<(NewPost, InsertReply)>) {
    for (new, reply) in jobs {
        let ts = now_us();
        let result = conn
            .prepare_cached(INSERT_POST)
            .and_then(|mut stmt| {
                stmt.execute(rusqlite::params![new.author_id, new.title, new.body, ts])
            })
            .map(|_| Post {
                id: conn.last_insert_rowid(),
                title: new.title,
                body: new.body,
                author_id: new.author_id,
                created_at: rfc3339(ts),
                updated_at: rfc3339(ts),
            });
        let _ = reply.send(result);
    }
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::try_from(format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

async fn get_post(State(state): State<Arc<AppState>>, Path(id): Path<i64>) -> Response {
    let result = if state.inline_reads {
        Ok(read_post(&state, id))
    } else {
        tokio::task::spawn_blocking(move || read_post(&state, id)).await
    };
    match result {
        Ok(Ok(Some((post, version)))) => {
            ([(header::ETAG, etag(version))], Json(post)).into_response()
        }
        Ok(Ok(None)) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "Post not found"})),
        )
            .into_response(),
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn create_post(State(state): State<Arc<AppState>>, Json(new): Json<NewPost>) -> Response {
    let (tx, rx) = oneshot::channel();
    if state.writer.send((new, tx)).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    match rx.await {
        Ok(Ok(post)) => {
            let location = HeaderValue::try_from(format!("/api/posts/{}", post.id))
                .unwrap_or(HeaderValue::from_static("/api/posts"));
            (
                StatusCode::CREATED,
                [(header::LOCATION, location), (header::ETAG, etag(1))],
                Json(post),
            )
                .into_response()
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .or_else(|| std::env::var("BARE_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:8002".to_owned());
    let path = args
        .next()
        .or_else(|| std::env::var("BARE_DB").ok())
        .ok_or("usage: postbase-bare-ref ADDR DB_PATH (or env BARE_ADDR, BARE_DB)")?;

    let readers = (0..READ_POOL)
        .map(|_| open(&path))
        .collect::<Result<Vec<_>, _>>()?;
    let writer_conn = open(&path)?;
    let (writer, jobs) = mpsc::channel();
    std::thread::spawn(move || writer_loop(writer_conn, jobs));

    let state = Arc::new(AppState {
        path,
        inline_reads: std::env::var("BARE_READS").is_ok_and(|v| v == "inline"),
        readers: Mutex::new(readers),
        writer,
    });
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/posts", post(create_post))
        .route("/api/posts/{id}", get(get_post))
        .with_state(state);

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
