//! The one integration-test binary: every test drives a real postbase over HTTP on a real socket,
//! each with its own database.

mod cluster;
mod helpers;
mod instance;
mod server;
mod sse;
mod test_db;

mod cli;
mod comments;
mod conditional;
mod connections;
mod contract;
mod cors;
mod errors;
mod events;
mod events_access;
mod events_resume;
mod follows;
mod hardening;
mod idempotency;
mod import_checks;
mod likes;
mod limits;
mod limits_shared;
mod logs;
mod multi;
mod operations;
mod operator;
mod outage;
mod owasp_access;
mod owasp_limits;
mod owasp_surface;
mod pagination;
mod pg_tls;
mod posts;
mod process;
mod search;
mod store;
mod store_follows;
mod throttle;
mod throttle_shared;
mod tokens;
mod transfer;
mod transfer_move;
mod users;
