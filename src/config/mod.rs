//! The one typed configuration: every flag also reads an environment variable, and `--help` on each
//! subcommand documents both.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod args;
pub use args::{hoist_leading_flags, parse_addr, MIN_TOKEN_TTL};

use crate::http::rate_limit::Rate;

/// postbase: users, sign-in and posts over JSON, in one binary.
#[derive(Debug, Parser)]
#[command(name = "postbase", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// `postbase` with no subcommand serves, so the serve flags are accepted here too.
    #[command(flatten)]
    pub serve: ServeConfig,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default when no subcommand is given).
    Serve(Box<ServeConfig>),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage accounts from the shell.
    #[command(subcommand)]
    User(UserCommand),
    /// Write every user, token and post to standard output as JSON Lines (to move an instance).
    Export(ExportArgs),
    /// Load an export from standard input into an empty database, keeping ids, password and token
    /// hashes, versions and timestamps.
    Import(DatabaseArgs),
    /// Revoke tokens from the shell.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Copy a running SQLite database to a file, consistently and without stopping it.
    Backup(BackupArgs),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the only way to make an admin.
    Create(UserCreateArgs),
    /// List every account: id, username, admin, email, created.
    List(DatabaseArgs),
    /// Set an account's password (read from standard input) and log out all its sessions.
    SetPassword(UserSetPasswordArgs),
    /// Make an account an admin (`true`) or not (`false`).
    SetAdmin(UserSetAdminArgs),
    /// Delete an account with its tokens and posts.
    Delete(UserNameArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Revoke every token of one account (log it out everywhere).
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UserNameArgs {
    /// The account's username (any case).
    #[arg(value_name = "NAME")]
    pub username: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UserSetPasswordArgs {
    /// The account's username (any case).
    #[arg(value_name = "NAME")]
    pub username: String,
    /// Read the new password from standard input (its first line), so it never shows in `ps` or shell history.
    #[arg(long, required = true)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UserSetAdminArgs {
    /// The account's username (any case).
    #[arg(value_name = "NAME")]
    pub username: String,
    /// `true` to make it an admin, `false` to make it an ordinary account.
    #[arg(value_name = "true|false", action = clap::ArgAction::Set)]
    pub admin: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenRevokeArgs {
    /// Whose tokens: a username (any case).
    #[arg(long, value_name = "NAME")]
    pub user: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The file to write (must not exist yet); created readable by its owner only (0600).
    #[arg(long, value_name = "FILE")]
    pub to: std::path::PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UserCreateArgs {
    /// The new account's username (3-32 characters of A-Z, a-z, 0-9, _ and -).
    #[arg(long)]
    pub username: String,
    /// Read the password from standard input (its first line), so it never shows in `ps` or shell history.
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// Optional email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Make the account an admin: admins may edit and delete any user or post.
    #[arg(long)]
    pub admin: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Write the dump to FILE instead of standard output. The file is created readable by its
    /// owner only (0600): the dump holds password and token hashes. (A shell's `> FILE` creates it
    /// with the shell's umask instead.)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Where the data lives: `sqlite://PATH` (created if missing) or
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DB` (also `postgresql://`), with libpq's
    /// `?sslmode=disable|prefer|require|verify-ca|verify-full` (default prefer) and
    /// `&sslrootcert=PATH` for TLS.
    #[arg(
        long,
        env = "POSTBASE_DATABASE_URL",
        default_value = "sqlite://./postbase.db"
    )]
    pub database_url: String,

    /// Most connections each instance holds open to PostgreSQL (ignored for SQLite).
    #[arg(long, env = "POSTBASE_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,

    /// Longest a request waits on PostgreSQL (for a connection, to connect, for a statement) before
    /// it is answered 503 (ignored for SQLite).
    #[arg(long, env = "POSTBASE_DB_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub db_timeout: Duration,

    /// SQLite durability: `normal` survives the process being killed at any moment; `full` also
    /// survives power loss and OS crashes, at the cost of an fsync per commit (ignored for PostgreSQL).
    #[arg(
        long,
        env = "POSTBASE_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "normal"
    )]
    pub sqlite_synchronous: crate::store::SqliteSynchronous,
}

impl DatabaseArgs {
    /// `start_while_down`: come up even if the database server cannot be reached yet.
    pub fn connect_options(&self, start_while_down: bool) -> crate::store::ConnectOptions {
        crate::store::ConnectOptions {
            pool_size: self.db_pool_size,
            timeout: self.db_timeout,
            start_while_down,
            sqlite_synchronous: self.sqlite_synchronous,
            create: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on: `IP:PORT`, `HOST:PORT`, `:PORT` (all interfaces) or `PORT` (this
    /// machine only); port 0 picks a free port (the bound address is logged as `listening on ...`).
    #[arg(long, env = "POSTBASE_ADDR", default_value = "127.0.0.1:8080", value_parser = args::parse_addr)]
    pub addr: SocketAddr,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Comma-separated origins allowed by CORS, each `scheme://host[:port]` with no path, matched
    /// exactly (e.g. `https://a.example,http://localhost:5173`); `*` (or unset): any origin,
    /// without credentials. Anything else is refused at start.
    #[arg(long, env = "POSTBASE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// How long a token from `POST /api/tokens` lives (e.g. `30d`, `12h`, `15m`; at least `1m`).
    #[arg(long, env = "POSTBASE_TOKEN_TTL", default_value = "30d", value_parser = args::parse_token_ttl)]
    pub token_ttl: Duration,

    /// Log output format.
    #[arg(long, env = "POSTBASE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "POSTBASE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Time a request may take before it is answered 503, in any unit humantime understands.
    #[arg(long, env = "POSTBASE_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Time a client has to send a complete request head, counted from the moment the connection
    /// is accepted (so a connection that sends nothing is closed too); slower connections are closed.
    #[arg(long, env = "POSTBASE_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,

    /// How long a keep-alive connection may sit idle between requests before it is closed.
    #[arg(long, env = "POSTBASE_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,

    /// Failed logins on one account from one client address within `--login-window` after which
    /// that address's logins to that account get 429 for a while (0: all login throttling off).
    #[arg(long, env = "POSTBASE_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: u32,

    /// Failed logins on one account from all addresses together within `--login-window` after
    /// which every login to that account gets 429 for a while: the ceiling against guessing spread
    /// over many addresses.
    #[arg(
        long,
        env = "POSTBASE_LOGIN_ACCOUNT_MAX_FAILURES",
        default_value_t = 50
    )]
    pub login_account_max_failures: u32,

    /// The window in which failed logins are counted.
    #[arg(long, env = "POSTBASE_LOGIN_WINDOW", default_value = "15m", value_parser = humantime::parse_duration)]
    pub login_window: Duration,

    /// The first lock's length; each further lock of the same account doubles it, up to the window.
    #[arg(long, env = "POSTBASE_LOGIN_LOCKOUT", default_value = "1m", value_parser = humantime::parse_duration)]
    pub login_lockout: Duration,

    /// Per-client-IP budget on /api, e.g. `100/s`, `6000/min` (default: off).
    #[arg(long, env = "POSTBASE_RATE_LIMIT")]
    pub rate_limit: Option<Rate>,

    /// Per-client-IP budget on sign-up, e.g. `10/min` (default: off).
    #[arg(long, env = "POSTBASE_SIGNUP_LIMIT")]
    pub signup_limit: Option<Rate>,

    /// Take the client's address from the last `X-Forwarded-For` entry (only behind a proxy that sets it).
    #[arg(long, env = "POSTBASE_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Serve Prometheus metrics at `GET /metrics` (`--metrics false` turns it off).
    #[arg(long, env = "POSTBASE_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,

    /// Serve `GET /metrics` on this address only (e.g. `127.0.0.1:9090`, reachable by the scraper
    /// but not the public), instead of on `--addr` with the API.
    #[arg(long, env = "POSTBASE_METRICS_ADDR", value_parser = args::parse_addr)]
    pub metrics_addr: Option<SocketAddr>,

    /// Most client connections held open at once; further connections wait in the kernel's backlog.
    #[arg(long, env = "POSTBASE_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Most connections one client address may hold open at once; more are closed as soon as they
    /// are accepted. Counted on the TCP peer: behind a load balancer, raise it above the size of
    /// the balancer's connection pool.
    #[arg(long, env = "POSTBASE_MAX_CONNECTIONS_PER_IP", default_value_t = 1_000)]
    pub max_connections_per_ip: usize,

    /// How long the event log keeps events for `GET /api/events` to resume from (e.g. `24h`).
    #[arg(long, env = "POSTBASE_EVENTS_RETENTION", default_value = "24h", value_parser = humantime::parse_duration)]
    pub events_retention: Duration,

    /// Most event streams open on this instance at once (503 beyond).
    #[arg(
        long,
        env = "POSTBASE_EVENTS_MAX_SUBSCRIBERS",
        default_value_t = 10_000
    )]
    pub events_max_subscribers: usize,

    /// Most event streams one client address may hold open on this instance (429 beyond).
    #[arg(
        long,
        env = "POSTBASE_EVENTS_MAX_SUBSCRIBERS_PER_IP",
        default_value_t = 100
    )]
    pub events_max_subscribers_per_ip: usize,

    /// Serve the RealWorld (Conduit) API at `/realworld/api` as well (the env var: `true`/`1`).
    #[arg(long, env = "POSTBASE_REALWORLD")]
    pub realworld: bool,

    /// Events queued for one stream before it counts as too slow and is closed (it resumes).
    #[arg(long, env = "POSTBASE_EVENTS_BUFFER", default_value_t = 256)]
    pub events_buffer: usize,
}

impl ServeConfig {
    /// The configuration the tests and `Default` users start from: the documented defaults.
    pub fn from_defaults() -> Self {
        Cli::parse_from(["postbase"]).serve
    }
}
