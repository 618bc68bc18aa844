//! Logging: one line per request (see `http::middleware::observe`), as text or JSON, filtered by
//! `RUST_LOG` (default `info`), to standard output.
//!
//! Lines are formatted on the request's thread but written by a thread of their own: a write to
//! stdout per request cost about a third of the throughput of a point read (measured with wrk on
//! 2 cores). The writer never drops a line; if it falls behind by more than its buffer, requests
//! wait for it rather than lose their log lines.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Keep it alive for as long as the program logs: dropping it flushes the lines still queued.
pub type LogGuard = tracing_appender::non_blocking::WorkerGuard;

/// Lines queued for the writer thread before requests wait for it.
/// Its slots are allocated up front: 16k lines is 0.5 MiB, and a few milliseconds of logs at
/// the highest request rates measured.
const BUFFERED_LINES: usize = 16 * 1024;

pub fn init(format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Start-up and shut-down lines (`listening on ADDR`) stay visible whatever RUST_LOG says:
    // scripts that start postbase on port 0 read the address from them.
    let filter = match "postbase::startup=info".parse() {
        Ok(directive)
            if std::env::var("RUST_LOG").map_or(true, |v| !v.contains("postbase::startup")) =>
        {
            filter.add_directive(directive)
        }
        _ => filter,
    };
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(BUFFERED_LINES)
        .thread_name("postbase-log")
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stdout().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
}
