"""bench/realtime's report: the machine, the targets (met / not met), what each part measured;
printed, and written to realtime.md and realtime.json."""

import json
import os
import time

from .common import log

TARGET_RSS_MB = 200
TARGET_P99_SQLITE_MS = 50
TARGET_P99_PG_MS = 100
# A part's writes count as "at half the top rate" when they reached this share of it.
RATE_KEPT = 0.95


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return {"cores": os.cpu_count(), "cpu": model, "memory_gib": round(mem_kib / 2**20, 1),
            "kernel": os.uname().release, "load_before": os.getloadavg()}


def mb(mib):
    """MiB (what the client reports) to MB, the unit of the target (10^6 bytes)."""
    return mib * 2**20 / 1e6 if mib is not None else None


def fmt_lat(lat):
    if not lat or lat["p99"] is None:
        return "no events"
    return f"p50 {lat['p50']:.1f}, p90 {lat['p90']:.1f}, p99 {lat['p99']:.1f}, max {lat['max']:.1f} ms"


def cpu_note(cpu):
    parts = [f"server {cpu['server']:.0f}%"]
    if cpu.get("write_server") is not None:
        parts = [f"instance B (streams) {cpu['server']:.0f}%", f"instance A (writes) {cpu['write_server']:.0f}%"]
    if cpu.get("named"):  # PostgreSQL: all its processes, whoever's queries they ran
        parts.append(f"PostgreSQL {cpu['named']['pct']:.0f}%")
    return ", ".join(parts + [f"client {cpu['client']:.0f}%", f"everything else {cpu['others']:.0f}%"]) + \
        " of one core"


def check_row(name, doc):
    c = doc["check"]
    measured = (f"{c['streams_ok']:,} of {c['streams']:,} streams; {doc['events_delivered']:,} events; "
                f"{c['missing']} missing, {c['duplicate']} duplicate, {c['out_of_order']} out of order, "
                f"{c['unexpected']} unexpected; {c['write_errors']} failed writes")
    return (f"{name}: every stream got exactly its posts, once, ids increasing", measured, c["ok"])


def targets(run):
    quick = run["args"]["quick"]
    judged = (lambda ok: ok) if not quick else (lambda ok: None)
    rows = []
    hold = run["parts"].get("hold")
    if hold:
        rss = hold["rss"]
        peak = max(v for v in (rss["hwm_mib"], rss["peak_sampled_mib"]) if v is not None)
        ok = hold["opened"] == hold["streams"] and mb(peak) <= TARGET_RSS_MB
        rows.append((f"{hold['streams']:,} concurrent streams on one instance (SQLite): server RSS <= "
                     f"{TARGET_RSS_MB} MB",
                     f"peak {mb(peak):.1f} MB, steady {mb(rss['steady_mib']):.1f} MB with "
                     f"{hold['opened']:,} open", judged(ok)))
        rows.append(check_row("hold", hold))
    for part, label, limit in (("latency", "SQLite, one instance", TARGET_P99_SQLITE_MS),
                               ("pg", "PostgreSQL, two instances", TARGET_P99_PG_MS)):
        doc = run["parts"].get(part)
        if not doc:
            continue
        lat = doc["latency_ms"]
        kept = doc["write_rate"] >= RATE_KEPT * doc["rate"]
        ok = lat["p99"] is not None and lat["p99"] < limit and kept and doc["opened"] == doc["streams"]
        pace = "up to 200 posts/s" if quick else "half of create_post's top rate"
        rows.append((f"commit -> delivery p99 < {limit} ms, {doc['streams']:,} streams, {label}, writes at {pace}",
                     f"p99 {lat['p99']:.1f} ms at {doc['write_rate']:,.0f} posts/s (top rate "
                     f"{doc['probe']['rps']:,.0f}/s)" if lat["p99"] is not None else "no events",
                     judged(ok)))
        rows.append(check_row(part, doc))
    return rows


def details(run):
    lines = []
    m = run["machine"]
    lines.append(f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}; "
                 f"load average before the run {m['load_before'][0]:.2f} (1 min); open-file limit "
                 f"{run['fd_limit']}; run took {run['elapsed_s'] / 60:.1f} min. The client (streams, writer, "
                 "checks) runs on the same cores as the server.")
    hold = run["parts"].get("hold")
    if hold:
        r = hold["rss"]
        lines.append(
            f"hold: {hold['opened']:,} of {hold['streams']:,} streams opened in {hold['open_s']:.1f}s "
            f"({hold['all_streams']:,} with the default topics, each getting every post; the others "
            f"`topics=posts&author=N` over {hold['authors']:,} authors); {hold['posts_written']:,} posts at "
            f"{hold['write_rate']:.0f}/s for {hold['duration_s']:.0f}s; {hold['events_delivered']:,} events "
            f"delivered ({fmt_lat(hold['latency_ms'])}). Server RSS (VmRSS): idle {hold['server_idle_mib']:.1f} "
            f"MiB, holding the streams {r['holding_mib']} MiB, steady while writing {r['steady_mib']} MiB, "
            f"peak sampled {r['peak_sampled_mib']} MiB, VmHWM {r['hwm_mib']} MiB. CPU while writing: "
            f"{cpu_note(hold['cpu_pct_while_writing'])}; load average at the start "
            f"{run['load']['hold'][0]:.2f}. Flags: {' '.join(hold['flags'])}.")
    for part, label in (("latency", "latency (SQLite)"), ("pg", "pg (two instances)")):
        doc = run["parts"].get(part)
        if not doc:
            continue
        p = doc["probe"]
        lines.append(
            f"{label}: create_post top rate {p['rps']:,.0f}/s (64 connections, {p['duration_s']:g}s, "
            f"p99 {p['latency_ms']['p99']} ms, {p['errors']} errors; CPU {cpu_note(p['cpu_pct'])}); then "
            f"{doc['opened']:,} of {doc['streams']:,} streams (`topics=posts&author=N`, one per author) "
            f"opened in {doc['open_s']:.1f}s, {doc['posts_written']:,} posts written at "
            f"{doc['write_rate']:,.0f}/s (asked {doc['rate']:,.0f}/s) for {doc['duration_s']:g}s, POST "
            f"p50 {doc['write_latency_ms']['p50']} / p99 {doc['write_latency_ms']['p99']} ms; "
            f"{doc['events_delivered']:,} events: {fmt_lat(doc['latency_ms'])}. CPU while writing: "
            f"{cpu_note(doc['cpu_pct_while_writing'])}; load average at the start {run['load'][part][0]:.2f}. "
            f"Stream server RSS peak {doc['rss']['hwm_mib']} MiB."
            + (f" PostgreSQL {doc['pg_version']}." if doc.get("pg_version") else ""))
    for part, doc in run["parts"].items():
        for e in doc["check"]["examples"]:
            lines.append(f"{part} check: {e}")
        if doc.get("open_errors"):
            lines.append(f"{part}: streams refused: {doc['open_errors']}")
    lines.append("Latency = the client's clock when an event arrives - the post's `created_at` (stamped by "
                 "the server as it takes the request, before its transaction), so it also counts the wait "
                 "for the writer and the commit.")
    return lines


def render(rows, lines, markdown):
    mark = {True: "yes", False: "NO", None: "(quick: not judged)"}
    if markdown:
        out = ["| target | measured | met |", "|---|---|---|"]
        out += [f"| {t} | {m} | {mark[ok]} |" for t, m, ok in rows]
        return "\n".join(out + [""] + [f"- {line}" for line in lines]) + "\n"
    out = [f"{mark[ok]:>5}  {t}\n       {m}" for t, m, ok in rows]
    return "\n".join(out + [""] + lines) + "\n"


def publish(run, out_dir):
    """Prints the report and writes it; answers whether every correctness check passed."""
    rows, lines = targets(run), details(run)
    print()
    print(render(rows, lines, markdown=False))
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"# bench/realtime{' --quick' if run['args']['quick'] else ''}, {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
    (out_dir / "realtime.md").write_text(title + render(rows, lines, markdown=True))
    (out_dir / "realtime.json").write_text(json.dumps(run, indent=1, default=str))
    log(f"wrote {out_dir / 'realtime.md'} and realtime.json")
    return all(doc["check"]["ok"] for doc in run["parts"].values())
