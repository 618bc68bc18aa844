//! postbase: a single-binary REST backend for apps whose frontends need users, sign-in and posts
//! over JSON. It grew from a Flask tutorial's API; this is that design with durable storage, real
//! tokens, keyset pagination and one error shape.
//!
//! # Layout
//! - [`config`]: the one typed configuration (flags and their env vars).
//! - [`cli`]: the subcommands `serve`, `migrate`, `user create`, `export`, `import`.
//! - [`startup`]: `Application`, which binds, serves and shuts down gracefully.
//! - [`connection`]: one connection's life: the per-address cap, first-request and idle timeouts.
//! - [`http`]: routes, one module per resource, and the middleware every response passes through.
//! - [`error`]: `ApiError`, the only place an error's status code is chosen.
//! - [`domain`]: validated newtypes (`Username`, `Password`, `PostTitle`, ...).
//! - [`auth`]: password hashing, bearer tokens, the `AuthUser` extractor.
//! - [`store`]: the storage boundary (`Store` trait), its SQLite and PostgreSQL implementations,
//!   and export/import between them.

pub mod auth;
pub mod cli;
pub mod config;
pub mod connection;
pub mod domain;
pub mod error;
pub mod http;
pub mod startup;
pub mod store;
pub mod telemetry;
