//! Crash safety: a mixed write load from many concurrent clients against the real binary, a
//! SIGKILL at a random moment, and a restart on the same file, after which every write that was
//! acknowledged with a 2xx must be there exactly as acknowledged.
//!
//! A request whose response was lost when the server died may or may not have landed: it is
//! *ambiguous*, and either state is accepted for it (then the state found is taken as the truth for
//! the cycles that follow). Everything else is exact: acknowledged posts match the acknowledged
//! JSON field for field, acknowledged deletes are gone, acknowledged revoked tokens get 401, live
//! tokens still work, no post or user exists that no request could have produced, and SQLite's
//! `PRAGMA integrity_check` and `foreign_key_check` pass on the file as the kill left it.
//!
//! One database file lives for a *generation* of a few cycles, so later cycles also kill a server
//! that has itself just recovered from a kill, on a file with history.
//!
//! Usage: `cargo test --test crash [-- --cycles N] [--seed S] [--verbose] [--postgres URL]`;
//! `CRASH_CYCLES`, `CRASH_SEED` and `CRASH_POSTGRES_URL` do the same. With `--postgres`, each
//! generation runs on a fresh database on that server, and postbase (never PostgreSQL) is killed.
//! Default: 20 cycles. `--sqlite-synchronous full` (or `CRASH_SQLITE_SYNCHRONOUS`) runs the server
//! in that mode. `--sabotage-wal` deletes the WAL
//! after each kill (losing committed writes, as a broken storage layer would) to show that the
//! checks then fail.
//!
//! Layout:
//! - `args`: the options, from flags and environment variables.
//! - `server`: the postbase process, started, killed and restarted.
//! - `database`: the SQLite file checked as the kill left it; PostgreSQL databases per generation.
//! - `model`: what the clients were told, which the restarted server is checked against.
//! - `http`: one request, and what its client can know of its outcome.
//! - `load`: the concurrent clients and their accounts and tokens; `posts`: their post writes.
//! - `verify`: the check after the restart.
//! - `cycles`: generations of load, SIGKILL, restart and check, and the summary.

mod args;
mod cycles;
mod database;
mod events;
mod http;
mod load;
mod model;
mod posts;
mod server;
mod verify;

fn main() {
    let failures = cycles::run(&args::options());
    if failures > 0 {
        std::process::exit(1);
    }
}
