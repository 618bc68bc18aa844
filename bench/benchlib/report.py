"""Summaries, the results table, the targets with met / not met, and text and Markdown tables."""

import statistics


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_rps(x):
    return "-" if x is None else f"{x:,.0f}"


def fmt_ms(us):
    return "-" if us is None else f"{us / 1000:.2f}"


def fmt_mib(kib):
    return "-" if not kib else f"{kib / 1024:.1f}"


def summarize(runs):
    """Median over rounds for one server on one workload."""
    if not runs:
        return None
    return {
        "rps": median([r["rps"] for r in runs]),
        "p50_us": median([r["p50_us"] for r in runs]),
        "p99_us": median([r["p99_us"] for r in runs]),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "peak_rss_kib": max(r.get("peak_rss_kib", 0) for r in runs),
        "rounds": [round(r["rps"], 1) for r in runs],
        **({"login_rps": median([r["login_rps"] for r in runs])} if "login_rps" in runs[0] else {}),
    }


def table_rows(results):
    header = ["workload", "postbase req/s", "Flask req/s", "ratio", "pb p50 ms", "pb p99 ms",
              "Flask p50 ms", "Flask p99 ms", "pb peak MiB", "Flask peak MiB", "bare req/s", "pb/bare"]
    rows = []
    for name, res in results.items():
        pb, fl, bare = res.get("postbase"), res.get("flask"), res.get("bare")
        ratio = pb["rps"] / fl["rps"] if pb and fl and fl["rps"] else None
        pb_bare = pb["rps"] / bare["rps"] if pb and bare and bare["rps"] else None
        rows.append([
            name,
            fmt_rps(pb and pb["rps"]), fmt_rps(fl and fl["rps"]),
            "-" if ratio is None else f"{ratio:.1f}x",
            fmt_ms(pb and pb["p50_us"]), fmt_ms(pb and pb["p99_us"]),
            fmt_ms(fl and fl["p50_us"]), fmt_ms(fl and fl["p99_us"]),
            fmt_mib(pb and pb["peak_rss_kib"]), fmt_mib(fl and fl["peak_rss_kib"]),
            fmt_rps(bare and bare["rps"]),
            "-" if pb_bare is None else f"{pb_bare * 100:.0f}%",
        ])
    return header, rows


def targets(results, memory, scale, hash_s, cores):
    """The performance targets, each with what this run measured and whether it is met."""
    out = []

    def get(w, k, field="rps"):
        v = results.get(w, {}).get(k)
        return v[field] if v else None

    def add(target, measured, met):
        out.append([target, measured, "yes" if met else "NO"])

    for w in ("get_post", "profile", "list_newest"):
        pb, fl, bare = get(w, "postbase"), get(w, "flask"), get(w, "bare")
        if pb and fl:
            add(f"{w}: >= 15x Flask", f"{pb / fl:.1f}x", pb / fl >= 15)
        if pb and bare:
            add(f"{w}: >= 70% of bare", f"{pb / bare * 100:.0f}%", pb / bare >= 0.7)
        p99 = get(w, "postbase", "p99_us")
        if p99 is not None:
            add(f"{w}: p99 < 5 ms", f"{p99 / 1000:.2f} ms", p99 < 5000)
    for w in ("list_comments", "tag_newest", "tag_deep"):
        pb, fl = get(w, "postbase"), get(w, "flask")
        if pb and fl:
            add(f"{w}: >= 15x Flask", f"{pb / fl:.1f}x", pb / fl >= 15)
    for w in ("create_post", "patch_post"):
        pb, fl = get(w, "postbase"), get(w, "flask")
        if pb and fl:
            add(f"{w}: >= 20x Flask", f"{pb / fl:.1f}x", pb / fl >= 20)
    for w in ("like_unlike", "create_comment"):
        pb, base = get(w, "postbase"), get("create_post", "postbase")
        if pb and base:
            add(f"{w}: >= 70% of postbase's create_post", f"{pb / base * 100:.0f}%", pb / base >= 0.7)
    pb = get("login", "postbase")
    if pb:
        goal = 0.8 * cores / hash_s
        add(f"login: >= 0.8 x cores / argon2 time = {goal:.0f}/s", f"{pb:,.0f}/s", pb >= goal)
    if results.get("read_in_login_storm", {}).get("postbase"):
        p99 = get("read_in_login_storm", "postbase", "p99_us")
        add("reads during a login storm: p99 < 20 ms",
            "no read completed" if p99 is None else f"{p99 / 1000:.2f} ms", p99 is not None and p99 < 20000)
    if memory:
        # The limits are in MB (10^6 bytes); /proc reports KiB.
        add("idle RSS <= 20 MB", f"{memory['idle_rss_kib'] * 1024 / 1e6:.1f} MB", memory["idle_rss_kib"] * 1024 <= 20e6)
        add(f"RSS holding {memory['connections']} keep-alive connections <= 150 MB",
            f"{memory['rss_holding_kib'] * 1024 / 1e6:.1f} MB ({memory['answered_200']} answered)",
            memory["rss_holding_kib"] * 1024 <= 150e6 and memory["answered_200"] == memory["connections"])
    if scale:
        for w in ("list_newest", "list_deep"):
            a, b = scale.get(f"{w}@1000"), scale.get(f"{w}@1000000")
            if a and b:
                add(f"{w}: same cost at 1,000 and 1,000,000 posts (within 20%)",
                    f"{a['rps']:,.0f} vs {b['rps']:,.0f} req/s", b["rps"] >= 0.8 * a["rps"])
    return out


def render_text(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def render_markdown(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)

