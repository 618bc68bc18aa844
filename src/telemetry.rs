//! Logging: one line per request (see `http::middleware::observe`), as text or JSON, filtered by
//! `RUST_LOG` (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
