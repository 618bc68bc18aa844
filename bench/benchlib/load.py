"""Load generation: wrk runs, the A B (C) rounds of a workload, and the gunicorn worker sweep."""

import json
import subprocess

from .common import WORK, log
from .report import fmt_ms, render_markdown, render_text, summarize
from .seed import copy_db
from .server import Server
from .workloads import STORM_READERS


def wrk(port, script, duration, connections, threads):
    threads = max(1, min(threads, connections))
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
           "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(proc):
    out, _ = proc.communicate()
    for line in out.splitlines():
        if line.startswith("BENCHJSON "):
            r = json.loads(line[len("BENCHJSON "):])
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            r["errors"] = sum(v for k, v in r.items() if k.startswith("errors_"))
            if r["requests"] == 0:  # wrk reports 0 latencies when nothing completed
                r["p50_us"] = r["p90_us"] = r["p99_us"] = r["max_us"] = None
            return r
    raise RuntimeError("wrk gave no result:\n" + out)


def run_wrk(port, script, duration, connections, threads):
    return wrk_result(wrk(port, script, duration, connections, threads))


def one_run(name, server, lua, duration, args):
    """One wrk run of a workload against one server; the storm runs two wrk at once."""
    if name != "read_in_login_storm":
        return run_wrk(server.port, lua[name], duration, args.connections, args.threads)
    storm = wrk(server.port, lua["login"], duration, max(1, args.connections - STORM_READERS), args.threads)
    reads = wrk(server.port, lua["get_post"], duration, STORM_READERS, 1)
    r = wrk_result(reads)
    login = wrk_result(storm)
    r["login_rps"] = login["rps"]
    r["errors"] += login["errors"]
    return r


def measure(name, kinds, seed_db, lua, args):
    """Start each server on its own copy of seed_db, warm up, then A B (C) rounds."""
    running = {}
    runs = {k: [] for k in kinds}
    try:
        for kind in kinds:
            db = WORK / f"{name}-{kind}.db"
            copy_db(seed_db, db)
            running[kind] = Server(kind, db, args.flask_workers)
        for kind in kinds:
            if args.warmup > 0:
                one_run(name, running[kind], lua, args.warmup, args)
            running[kind].reset_peak()
        for rnd in range(args.rounds):
            for kind in kinds:  # A B (C), A B (C), ...
                r = one_run(name, running[kind], lua, args.duration, args)
                r["peak_rss_kib"] = running[kind].mem_kib("VmHWM")
                runs[kind].append(r)
                log(f"   round {rnd + 1} {kind:8s} {r['rps']:10,.0f} req/s  p50 {fmt_ms(r['p50_us']):>7} ms"
                    f"  p99 {fmt_ms(r['p99_us']):>8} ms  peak {r['peak_rss_kib'] / 1024:6.1f} MiB"
                    + (f"  (logins {r['login_rps']:,.0f}/s)" if "login_rps" in r else "")
                    + (f"  ERRORS {r['errors']}" if r["errors"] else ""))
    finally:
        for s in running.values():
            s.stop()
    return {k: summarize(v) for k, v in runs.items()}


def sweep_flask_workers(counts, workloads, seed_db, lua, args, out_dir):
    """Which gunicorn worker count serves Flask best here: every count side by side, in alternation."""
    table = {}
    for name in workloads:
        log(f"== sweep {name}: gunicorn workers {counts}, {args.rounds} rounds x {args.duration:g}s")
        running, runs = {}, {w: [] for w in counts}
        try:
            for w in counts:
                db = WORK / f"sweep-{name}-{w}.db"
                copy_db(seed_db, db)
                running[w] = Server("flask", db, w)
            for w in counts:
                if args.warmup > 0:
                    one_run(name, running[w], lua, args.warmup, args)
            for rnd in range(args.rounds):
                for w in counts:
                    r = one_run(name, running[w], lua, args.duration, args)
                    runs[w].append(r)
                    log(f"   round {rnd + 1} workers {w:2d} {r['rps']:8,.0f} req/s  p99 {fmt_ms(r['p99_us']):>8} ms")
        finally:
            for srv in running.values():
                srv.stop()
        table[name] = {w: summarize(v) for w, v in runs.items()}
    header = ["workers"] + [f"{n} req/s (p99 ms)" for n in workloads]
    rows = [[str(w)] + [f"{table[n][w]['rps']:,.0f} ({fmt_ms(table[n][w]['p99_us'])})" for n in workloads]
            for w in counts]
    print(render_text(header, rows))
    (out_dir / "flask-workers.md").write_text(render_markdown(header, rows) + "\n")
    (out_dir / "flask-workers.json").write_text(json.dumps(
        {"settings": {"rounds": args.rounds, "duration_s": args.duration, "connections": args.connections},
         "results": {n: {str(w): v for w, v in t.items()} for n, t in table.items()}}, indent=2) + "\n")

