"""The command line, and the run from start to finish (the steps are in the package's docstring)."""

import argparse
import os
import time
from pathlib import Path

import benchlib
from .common import N_POSTS, RESULTS, WORK, log
from .contract import contract_check
from .load import measure, sweep_flask_workers
from .memory import idle_rss, memory_test
from .output import publish
from .seed import argon2_seconds, copy_db, seed
from .server import Server
from .social import run_social
from .tools import ensure_wrk, use_binaries
from .workloads import WORKLOADS, write_lua


def parse_args():
    ap = argparse.ArgumentParser(description=benchlib.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="A/B rounds per workload (default 3)")
    ap.add_argument("--duration", type=float, default=8, help="seconds per wrk run (default 8)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per server and workload")
    ap.add_argument("--flask-workers", type=int, default=2,
                    help="gunicorn sync workers (default 2: best measured on 2 cores, see README)")
    ap.add_argument("--posts", type=int, default=N_POSTS, help="posts to seed (default 100,000)")
    ap.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS),
                    help="comma-separated subset of workloads")
    ap.add_argument("--servers", default="postbase,flask,bare", help="comma-separated subset of servers")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 round of 2 s, short warm-up, 200 connections held")
    ap.add_argument("--bare-reads", choices=("blocking", "inline"), default="inline",
                    help="bare server reads inline on the async worker, as postbase does (default), "
                         "or in spawn_blocking")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--profile", default="release", choices=("release", "dev"),
                    help="cargo profile to build and run (default release; dev = target/debug, for smoke runs only)")
    ap.add_argument("--schema-sql", help="create the schema from this SQL file instead of `postbase migrate`")
    ap.add_argument("--hold", type=int, default=1000, help="keep-alive connections held for the RSS test")
    ap.add_argument("--scale", action=argparse.BooleanOptionalAction, default=None,
                    help="also time list pages on postbase at 1,000 and 1,000,000 posts (default: on, off with --quick)")
    ap.add_argument("--social", action=argparse.BooleanOptionalAction, default=True,
                    help="the social section: feed and search pages on SQLite and PostgreSQL over 10,000 users "
                         "and 1,000,000 posts (default: on; --quick runs a tiny version)")
    ap.add_argument("--social-only", action="store_true",
                    help="run only the social section (no other workloads, contract check or memory test)")
    ap.add_argument("--social-users", type=int, default=10_000, help="users of the social dataset")
    ap.add_argument("--social-posts", type=int, default=1_000_000, help="posts of the social dataset")
    ap.add_argument("--social-scale", action=argparse.BooleanOptionalAction, default=True,
                    help="also run the feed on a dataset of 1/100 of the posts (same users and follows) for the "
                         "cost of a page against the table's size (default: on)")
    ap.add_argument("--social-workloads", metavar="NAME,NAME,...",
                    help="only these social workloads (feed_first_1, ..., search_common, search_rare, search_prefix)")
    ap.add_argument("--social-pg", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
                    help="PostgreSQL server for the social section (it creates and drops bench_social_N); "
                         "'none': SQLite only")
    ap.add_argument("--reuse-pg", action="store_true",
                    help="use the social section's PostgreSQL databases a --keep-pg run left (migrated and "
                         "checked against the SQLite dataset) instead of seeding them again")
    ap.add_argument("--keep-pg", action="store_true", help="keep the social section's PostgreSQL databases")
    ap.add_argument("--sweep-flask-workers", metavar="N,N,...",
                    help="instead of the benchmark: compare gunicorn worker counts on --workloads "
                         "(default get_post,create_post,login,mix_90_10) and write flask-workers.md")
    ap.add_argument("--out", help="where results.json, results.md, chart.png go (default bench/results; "
                    "bench/results/tmp for --quick, --profile dev or a subset of servers/workloads)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 2, 0
    if args.scale is None:
        args.scale = not args.quick
    if args.social_only:
        args.social, args.scale, args.servers = True, False, "postbase"
    return args


def main():
    args = parse_args()
    t_start = time.time()
    load_start = os.getloadavg()
    if load_start[0] > 1.0:
        log(f"note: the machine is busy before the run (load average {load_start[0]:.2f}): expect noisy numbers")
    servers = [s for s in args.servers.split(",") if s]
    workloads = [w for w in WORKLOADS if w[0] in args.workloads.split(",")]
    WORK.mkdir(parents=True, exist_ok=True)
    for old in WORK.glob("*.log"):
        old.unlink()
    if args.sweep_flask_workers and args.workloads == ",".join(w[0] for w in WORKLOADS):
        workloads = [w for w in WORKLOADS if w[0] in ("get_post", "create_post", "login", "mix_90_10")]
    partial = args.sweep_flask_workers or args.social_only or args.quick or args.profile != "release" or len(workloads) < len(WORKLOADS) or \
        set(servers) != {"postbase", "flask", "bare"}
    out_dir = Path(args.out) if args.out else (RESULTS / "tmp" if partial else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)

    binaries = use_binaries(args, servers)
    ensure_wrk()

    if args.social_only:
        publish(args, out_dir, {
            "t_start": t_start, "load_start": load_start, "binaries": binaries, "workloads": [], "results": {},
            "problems": [], "scale": None, "memory": None, "flask_idle": None, "hash_s": argon2_seconds(),
            "social": run_social(args)})
        return

    seed_db = WORK / "seed.db"
    seed(seed_db, args.posts, args.schema_sql)
    lua = write_lua(args.posts, WORK / "lua")
    if args.sweep_flask_workers:
        counts = [int(x) for x in args.sweep_flask_workers.split(",")]
        sweep_flask_workers(counts, [w[0] for w in workloads], seed_db, lua, args, out_dir)
        return

    problems = check_contract(seed_db, servers, args)

    results = {}
    for name, desc, wl_servers in workloads:
        kinds = [k for k in wl_servers if k in servers]
        if kinds:
            log(f"== {name}: {desc}  ({' / '.join(kinds)}, {args.rounds} rounds x {args.duration:g}s, "
                f"{args.connections} connections)")
            results[name] = measure(name, kinds, seed_db, lua, args)

    scale = run_scale(args) if args.scale and "postbase" in servers else None
    social = run_social(args) if args.social and "postbase" in servers else None

    memory = None
    if "postbase" in servers:
        log(f"== memory: postbase idle, then holding {args.hold} keep-alive connections")
        memory = memory_test(seed_db, args.hold)
        log(f"   idle {memory['idle_rss_kib'] / 1024:.1f} MiB, holding {memory['connections']} connections "
            f"({memory['answered_200']} answered 200, {memory['still_open_after_hold']} still open) "
            f"{memory['rss_holding_kib'] / 1024:.1f} MiB")
    flask_idle = idle_rss("flask", seed_db, args.flask_workers) if "flask" in servers else None
    hash_s = argon2_seconds()

    publish(args, out_dir, {
        "t_start": t_start, "load_start": load_start, "binaries": binaries, "workloads": workloads,
        "results": results, "problems": problems, "scale": scale, "memory": memory,
        "flask_idle": flask_idle, "hash_s": hash_s, "social": social,
    })


def check_contract(seed_db, servers, args):
    """Contract check: same routes, same JSON. Returns the deviations (also printed)."""
    check_servers = {}
    try:
        for kind in ("postbase", "flask"):
            if kind in servers:
                db = WORK / f"check-{kind}.db"
                copy_db(seed_db, db)
                check_servers[kind] = Server(kind, db, args.flask_workers)
        problems = contract_check({k: s.port for k, s in check_servers.items()}, args.posts)
    finally:
        for s in check_servers.values():
            s.stop()
    if problems:
        log(f"\nCONTRACT DEVIATIONS ({len(problems)}): the servers do not all do the same work")
        for srv, request, expected, got in problems:
            log(f"  [{srv}] {request}\n      expected: {expected}\n      got:      {got}")
        log("")
    else:
        log("contract check: postbase and Flask answer the benchmarked requests alike")
    return problems


def run_scale(args):
    """list_newest and list_deep on postbase with 1,000 and 1,000,000 posts."""
    scale = {}
    for n in (1_000, 1_000_000):
        db = WORK / f"scale-{n}.db"
        seed(db, n, args.schema_sql)
        scale_lua = write_lua(n, WORK / f"lua-{n}")
        for name in ("list_newest", "list_deep"):
            log(f"== scale: {name} on postbase with {n:,} posts")
            scale[f"{name}@{n}"] = measure(name, ["postbase"], db, scale_lua, args)["postbase"]
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    return scale
