//! Cycles: a generation of cycles on one database, each a load, a SIGKILL, a restart and the check,
//! and the summary of the run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::args::Options;
use crate::database::{admin_sql, check_file, with_database};
use crate::events;
use crate::load::{seed_users, Load, CLIENTS};
use crate::model::{Model, Tally};
use crate::server::Server;
use crate::verify::verify;

/// Cycles that share one database file before a fresh one is started.
const CYCLES_PER_GENERATION: u64 = 5;
/// How long into the load the kill comes, in milliseconds.
const KILL_AFTER_MS: std::ops::RangeInclusive<u64> = 50..=500;
const KILL_AFTER_MS_POSTGRES: std::ops::RangeInclusive<u64> = 300..=900;

/// Fewest writes a cycle must see acknowledged before its kill for its checks to mean anything. A
/// cycle usually sees a hundred or more; the shortest load (50 ms) on a busy machine about ten; a
/// load whose writes are all refused, none.
const MIN_ACKED_PER_CYCLE: u64 = 3;

/// Runs the cycles `opts` asks for, printing a line per failed (or, verbose, every) cycle and a
/// summary; returns the number of failures.
pub(crate) fn run(opts: &Options) -> u64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    println!(
        "crash: {} cycles of load + SIGKILL + restart + check on {} (seed {}; rerun with --seed {2})",
        opts.cycles,
        if opts.postgres.is_some() { "PostgreSQL" } else { "SQLite" },
        opts.seed
    );
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS * 2)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let refusals = Arc::new(Mutex::new(BTreeMap::new()));
    let mut failures = 0u64;

    let mut cycle = 0u64;
    while cycle < opts.cycles {
        let dir = tempfile::Builder::new()
            .prefix("postbase-crash-")
            .tempdir()
            .unwrap();
        let db: PathBuf = dir.path().join("crash.db");
        let pg_name = format!("pb_crash_{:016x}", rng.gen::<u64>());
        let database_url = match &opts.postgres {
            Some(server) => {
                rt.block_on(admin_sql(server, &format!("CREATE DATABASE {pg_name}")));
                with_database(server, &pg_name)
            }
            None => format!("sqlite://{}", db.display()),
        };
        let model = Arc::new(Mutex::new(Model::default()));
        let mut server = Server::start(&database_url, opts.synchronous.as_deref());
        let tag = format!("g{}r{}", cycle / CYCLES_PER_GENERATION, rng.gen::<u16>());
        let handle = Load {
            http: http.clone(),
            base: server.base.clone(),
            model: model.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            tally: tally.clone(),
            refusals: refusals.clone(),
            tag,
        };
        rt.block_on(seed_users(&handle, &mut rng));

        for _ in 0..CYCLES_PER_GENERATION.min(opts.cycles - cycle) {
            cycle += 1;
            let before = *tally.lock().unwrap();
            let load = Arc::new(Load {
                base: server.base.clone(),
                stop: Arc::new(AtomicBool::new(false)),
                // Clients count their requests from 0 each cycle: the cycle in the tag keeps
                // every username and title of the generation unique.
                tag: format!("{}k{cycle}", handle.tag),
                ..handle.clone_handle()
            });
            // PostgreSQL commits take longer (a server round trip and its fsync): a longer load
            // keeps the number of writes per cycle comparable.
            let window = if opts.postgres.is_some() {
                KILL_AFTER_MS_POSTGRES
            } else {
                KILL_AFTER_MS
            };
            let kill_after = Duration::from_millis(rng.gen_range(window));
            let seeds: Vec<u64> = (0..CLIENTS).map(|_| rng.gen()).collect();
            rt.block_on(async {
                let mut tasks = tokio::task::JoinSet::new();
                for (slot, seed) in seeds.into_iter().enumerate() {
                    tasks.spawn(load.clone().client(slot, seed));
                }
                tokio::time::sleep(kill_after).await;
                server.sigkill();
                load.stop.store(true, Ordering::Relaxed);
                while let Some(r) = tasks.join_next().await {
                    r.expect("a client task");
                }
            });

            let mut problems = Vec::new();
            if opts.postgres.is_none() {
                if opts.sabotage {
                    for suffix in ["-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                    }
                }
                if let Err(e) = check_file(&db) {
                    problems.push(e);
                }
            }
            server = Server::start(&database_url, opts.synchronous.as_deref());
            {
                let mut m = model.lock().unwrap();
                let mut t = tally.lock().unwrap();
                problems.extend(rt.block_on(verify(&http, &server.base, &mut m, &mut t)));
                problems.extend(rt.block_on(events::check_log(&http, &server.base, &m)));
            }
            let after = *tally.lock().unwrap();
            let acked = after.acked_writes - before.acked_writes;
            if acked < MIN_ACKED_PER_CYCLE {
                // A load refused (4xx) or stalled checks nothing: this cycle proved nothing.
                problems.push(format!(
                    "only {acked} writes acknowledged (at least {MIN_ACKED_PER_CYCLE} expected): \
                     the load did not run"
                ));
            }
            let line = format!(
                "cycle {cycle}/{}: killed {} ms into the load; {} writes acknowledged, {} checks, {} ambiguous",
                opts.cycles,
                kill_after.as_millis(),
                after.acked_writes - before.acked_writes,
                after.checked - before.checked,
                after.ambiguous - before.ambiguous,
            );
            if !problems.is_empty() {
                failures += 1;
                println!("{line}: FAILED");
                for p in &problems {
                    println!("  {p}");
                }
                println!("  database kept at {}", dir.path().display());
                std::mem::forget(dir);
                break;
            }
            if opts.verbose {
                println!("{line}");
            }
        }
        // Graceful end of the generation's server; the directory goes with `dir`, a PostgreSQL
        // database is dropped (kept, like the directory, when the generation failed).
        drop(server);
        if let (Some(server), 0) = (&opts.postgres, failures) {
            rt.block_on(admin_sql(
                server,
                &format!("DROP DATABASE {pg_name} WITH (FORCE)"),
            ));
        }
        if failures > 0 {
            break;
        }
    }

    let t = *tally.lock().unwrap();
    if t.server_errors > 0 {
        failures += 1;
    }
    println!(
        "crash: {cycle} cycles in {:.1} s; {} writes acknowledged, {} checks of acknowledged state, \
         {} ambiguous (in flight at the kill), {} writes refused ({} with 5xx); {}",
        started.elapsed().as_secs_f64(),
        t.acked_writes,
        t.checked,
        t.ambiguous,
        t.failed_requests,
        t.server_errors,
        if failures == 0 { "all ok" } else { "FAILED" }
    );
    for (kind, n) in refusals.lock().unwrap().iter() {
        println!("  refused x{n}: {kind}");
    }
    failures
}
