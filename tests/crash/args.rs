//! The options: flags after `--`, or the `CRASH_*` environment variables.

pub(crate) struct Options {
    pub cycles: u64,
    pub seed: u64,
    pub verbose: bool,
    /// Deletes the WAL after each kill, losing its committed transactions: the harness must
    /// then fail. It shows the checks can fail; never set in CI.
    pub sabotage: bool,
    /// Passed to the server as `--sqlite-synchronous` when given (`normal`, its default, or `full`).
    pub synchronous: Option<String>,
    /// `--postgres URL`: run on PostgreSQL instead (a fresh database on that server per
    /// generation); postbase is killed, never PostgreSQL.
    pub postgres: Option<String>,
}

pub(crate) fn options() -> Options {
    let mut cycles = std::env::var("CRASH_CYCLES")
        .ok()
        .map(|v| v.parse().expect("CRASH_CYCLES is a number"))
        .unwrap_or(20);
    let mut seed = std::env::var("CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("CRASH_SEED is a number"));
    let mut verbose = false;
    let mut sabotage = false;
    let mut synchronous = std::env::var("CRASH_SQLITE_SYNCHRONOUS").ok();
    let mut postgres = std::env::var("CRASH_POSTGRES_URL").ok();
    // `cargo test` may pass its own flags (`--nocapture`, a filter); those are ignored.
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cycles" => {
                cycles = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--cycles N");
            }
            "--seed" => seed = Some(args.next().and_then(|v| v.parse().ok()).expect("--seed S")),
            "--verbose" | "-v" => verbose = true,
            "--sabotage-wal" => sabotage = true,
            "--sqlite-synchronous" => {
                synchronous = Some(args.next().expect("--sqlite-synchronous normal|full"));
            }
            "--postgres" => postgres = Some(args.next().expect("--postgres URL")),
            _ => {}
        }
    }
    Options {
        cycles,
        seed: seed.unwrap_or_else(rand::random),
        verbose,
        sabotage,
        synchronous,
        postgres,
    }
}
