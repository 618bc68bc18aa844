"""chart.png: req/s and p99 per workload and server."""


def chart(results, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    servers = [("postbase", "#d9480f"), ("flask", "#1c7ed6"), ("bare", "#868e96")]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8.5))
    width = 0.27
    for i, (srv, color) in enumerate(servers):
        xs = [j + (i - 1) * width for j in range(len(names))]
        rps = [results[n][srv]["rps"] if results[n].get(srv) else 0 for n in names]
        p99 = [(results[n][srv]["p99_us"] or 0) / 1000 if results[n].get(srv) else 0 for n in names]
        label = {"flask": "Flask + gunicorn", "bare": "bare axum + rusqlite"}.get(srv, srv)
        bars = ax1.bar(xs, rps, width, label=label, color=color)
        ax1.bar_label(bars, labels=[f"{v:,.0f}" if v else "" for v in rps], fontsize=6, rotation=90, padding=2)
        ax2.bar(xs, p99, width, label=label, color=color)
    for ax in (ax1, ax2):
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, fontsize=8, rotation=30, ha="right")
        ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    ax1.set_ylabel("requests/s (median of rounds, log)")
    ax1.set_title(title, fontsize=10)
    ax1.set_ylim(top=ax1.get_ylim()[1] * 4)  # room for the labels and the legend
    ax1.legend(fontsize=8, loc="upper center", ncol=3)
    ax2.set_ylabel("p99 latency ms (log)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

