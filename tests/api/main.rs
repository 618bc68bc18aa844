//! The one integration-test binary: every test drives a real postbase over HTTP on a real socket,
//! each with its own database.

mod cluster;
mod helpers;
mod server;

mod cli;
mod comments;
mod conditional;
mod connections;
mod contract;
mod cors;
mod errors;
mod hardening;
mod idempotency;
mod import_checks;
mod likes;
mod limits;
mod logs;
mod multi;
mod operations;
mod operator;
mod owasp;
mod pagination;
mod pg_tls;
mod posts;
mod process;
mod store;
mod throttle;
mod tokens;
mod transfer;
mod users;
