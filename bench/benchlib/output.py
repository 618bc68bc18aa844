"""The end of a run: notes under the table, the table and targets on stdout, and results.json,
results.md and chart.png in the output directory."""

import json
import os
import time

from .chart import chart
from .common import N_USERS, log
from .report import fmt_mib, fmt_ms, render_markdown, render_text, table_rows, targets
from . import social_report
from .workloads import STORM_READERS


def publish(args, out_dir, run):
    """Print and write what the run measured; `run` holds everything cli.main gathered."""
    results, problems, scale, memory = run["results"], run["problems"], run["scale"], run["memory"]
    flask_idle, hash_s, workloads = run["flask_idle"], run["hash_s"], run["workloads"]
    cores = os.cpu_count()

    header, rows = table_rows(results)
    notes = [f"ratio = postbase req/s / Flask req/s; medians over {args.rounds} round(s) of {args.duration:g}s, "
             f"wrk {args.threads} threads, {args.connections} connections; Flask = gunicorn "
             f"{args.flask_workers} sync workers. Peak RSS = VmHWM (gunicorn: master + workers summed)."]
    storm = results.get("read_in_login_storm", {})
    if storm:
        notes.append("read_in_login_storm: reads on 8 connections while logins run on the other "
                     f"{max(1, args.connections - STORM_READERS)}; logins/s during it: " + ", ".join(
                         f"{k} {v['login_rps']:,.0f}" for k, v in storm.items() if v))
    if memory:
        notes.append(f"postbase idle RSS {fmt_mib(memory['idle_rss_kib'])} MiB; holding {memory['connections']} "
                     f"keep-alive connections {fmt_mib(memory['rss_holding_kib'])} MiB "
                     f"({memory['answered_200']} answered 200, {memory['still_open_after_hold']} still open). "
                     f"Flask idle RSS {fmt_mib(flask_idle)} MiB.")
    notes.append(f"argon2id (m=19456 t=2 p=1) verify in argon2-cffi: {hash_s * 1000:.1f} ms -> login target "
                 f"0.8 x {cores} cores / hash = {0.8 * cores / hash_s:.0f}/s")
    if scale:
        notes.append("list page cost vs table size (postbase): " + "; ".join(
            f"{k} {v['rps']:,.0f} req/s p99 {fmt_ms(v['p99_us'])} ms" for k, v in scale.items()))
    errors = {f"{w}/{k}": v["errors"] for w, res in results.items() for k, v in res.items() if v and v["errors"]}
    if errors:
        notes.append(f"NON-2XX OR SOCKET ERRORS (those rows are not comparable): {errors}")
    if problems:
        notes.append(f"{len(problems)} contract deviation(s): see results.json (and stderr).")
    goals = targets(results, memory, scale, hash_s, cores)
    social = run.get("social")
    social_tables = []
    if social:
        notes += social_report.notes(social)
        goals += social_report.targets(social)
        social_tables = [t for t in (social_report.main_table(social), social_report.scale_table(social)) if t]

    print()
    if results:
        print(render_text(header, rows))
        print()
    for t in social_tables:
        print(render_text(*t))
        print()
    for n in notes:
        print(n)
    if goals:
        print()
        print(render_text(["target", "measured", "met"], goals))

    machine = {"cpus": cores, "kernel": os.uname().release,
               "loadavg_at_start": run["load_start"], "loadavg_at_end": os.getloadavg(),
               "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                  if l.startswith("model name")), "?")}
    report = {
        "settings": {"profile": args.profile, "bare_reads": args.bare_reads, "rounds": args.rounds, "duration_s": args.duration, "connections": args.connections,
                     "wrk_threads": args.threads, "warmup_s": args.warmup, "flask_workers": args.flask_workers,
                     "users": N_USERS, "posts": args.posts, "quick": args.quick},
        "machine": machine,
        "binaries": run["binaries"],
        "workloads": {n: {"description": d} for n, d, _ in workloads},
        "results": results,
        "memory": memory, "flask_idle_rss_kib": flask_idle,
        "argon2_verify_s": hash_s, "login_target_per_s": 0.8 * cores / hash_s,
        "contract_deviations": [dict(zip(("server", "request", "expected", "got"), map(str, p))) for p in problems],
        "table": {"header": header, "rows": rows},
        "notes": notes,
        "targets": [dict(zip(("target", "measured", "met"), g)) for g in goals],
        "scale": scale,
        "social": social,
        "elapsed_s": round(time.time() - run["t_start"], 1),
    }
    (out_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    md = ([render_markdown(header, rows), ""] if results else []) + \
        [x for t in social_tables for x in (render_markdown(*t), "")] + [f"- {n}" for n in notes]
    if goals:
        md += ["", render_markdown(["target", "measured", "met"], goals)]
    (out_dir / "results.md").write_text("\n".join(md) + "\n")
    if results:
        chart(results, out_dir / "chart.png",
              f"postbase vs Flask (gunicorn x{args.flask_workers}) vs bare axum, {cores} cores, "
              f"{args.connections} conns, {args.rounds}x{args.duration:g}s")
    log(f"wrote {out_dir}/results.json, results.md, chart.png in {time.time() - run['t_start']:.0f}s")
