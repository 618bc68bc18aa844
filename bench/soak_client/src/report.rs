//! The per-window table while the run goes on, and the verdict at the end.

use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::args::Args;
use crate::procfs::{cpu_ticks, rss_kib};
use crate::stats::{percentile, Shared, Window};

/// Prints each window's row once it is over; returns the rows and the server's RSS per window.
pub async fn windows(
    a: &Args,
    shared: &Shared,
    deadline: Instant,
) -> (Vec<Value>, Vec<Option<f64>>) {
    let mut rows = Vec::new();
    let mut rss_series = Vec::new();
    let windows = (a.duration.as_secs_f64() / a.window.as_secs_f64()).ceil() as usize;
    println!(
        "window    t(s)  conns  requests    req/s  errors  p50(ms)  p99(ms)  max(ms)  rss(MiB)  \
         cpu% server/generator/others"
    );
    let mut last_ticks = cpu_ticks(a.pid);
    for i in 0..windows {
        let end = shared.started + a.window * (i as u32 + 1);
        let end = end.min(deadline);
        // Connections are counted a second before the window ends: at the very end of the run
        // they are already closing.
        tokio::time::sleep_until((end - Duration::from_secs(1)).into()).await;
        let open = shared.open.load(Ordering::Relaxed);
        tokio::time::sleep_until(end.into()).await;
        // Requests finishing just after the boundary land in the next window; give them a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let w = {
            let mut ws = shared.windows.lock().unwrap();
            if ws.len() <= i {
                ws.resize_with(i + 1, Window::default);
            }
            std::mem::take(&mut ws[i])
        };
        let mut lat = w.latencies_us;
        lat.sort_unstable();
        let secs = (end - (shared.started + a.window * i as u32)).as_secs_f64();
        let rss = a.pid.and_then(rss_kib).map(|k| k as f64 / 1024.0);
        // CPU use over the window, in percent of one core (USER_HZ is 100 ticks a second).
        let ticks = cpu_ticks(a.pid);
        let pct = |d: u64| d as f64 / secs;
        let (server_cpu, client_cpu, other_cpu) = (
            pct(ticks.2.saturating_sub(last_ticks.2)),
            pct(ticks.1.saturating_sub(last_ticks.1)),
            pct((ticks.0.saturating_sub(last_ticks.0))
                .saturating_sub(ticks.1.saturating_sub(last_ticks.1))
                .saturating_sub(ticks.2.saturating_sub(last_ticks.2))),
        );
        last_ticks = ticks;
        let row = json!({
            "window": i + 1,
            "t_s": (end - shared.started).as_secs(),
            "connections": open,
            "requests": lat.len(),
            "rps": lat.len() as f64 / secs,
            "errors": w.errors,
            "error_kinds": w.error_kinds,
            "p50_ms": percentile(&lat, 0.50),
            "p99_ms": percentile(&lat, 0.99),
            "max_ms": percentile(&lat, 1.0),
            "rss_mib": rss,
            "cpu_pct": {"server": server_cpu, "generator": client_cpu, "others": other_cpu},
        });
        println!(
            "{:>6} {:>7} {:>6} {:>9} {:>8.0} {:>7} {:>8.1} {:>8.1} {:>8.1} {:>9} {:>5.0}/{:.0}/{:.0}",
            i + 1,
            row["t_s"],
            row["connections"],
            row["requests"],
            row["rps"].as_f64().unwrap(),
            w.errors,
            row["p50_ms"].as_f64().unwrap(),
            row["p99_ms"].as_f64().unwrap(),
            row["max_ms"].as_f64().unwrap(),
            rss.map_or("-".into(), |r| format!("{r:.1}")),
            server_cpu,
            client_cpu,
            other_cpu,
        );
        for (kind, n) in &w.error_kinds {
            println!("         error x{n}: {kind}");
        }
        std::io::stdout().flush().ok();
        rss_series.push(rss);
        rows.push(row);
    }
    (rows, rss_series)
}

/// Totals, whether RSS stayed flat after the warm-up, and `--json`; returns whether the run
/// passed (no errors, flat RSS).
pub fn finish(a: &Args, rows: &[Value], rss_series: &[Option<f64>]) -> bool {
    let windows = rss_series.len();
    let errors: u64 = rows.iter().map(|r| r["errors"].as_u64().unwrap()).sum();
    let requests: u64 = rows.iter().map(|r| r["requests"].as_u64().unwrap()).sum();
    // Warm-up: the first fifth of the run, at least one window (caches and pools fill up then).
    let warm = (windows / 5).max(1).min(windows.saturating_sub(1));
    let after: Vec<f64> = rss_series[warm..].iter().flatten().copied().collect();
    let (flat, rss_note) = match (after.first(), after.last()) {
        (Some(&first), Some(&last)) => {
            let max = after.iter().copied().fold(f64::MIN, f64::max);
            let min = after.iter().copied().fold(f64::MAX, f64::min);
            // Flat: after warm-up, RSS moves within 10% (plus 8 MiB for allocator noise).
            let flat = max - min <= min * 0.10 + 8.0;
            (
                flat,
                format!(
                    "RSS after warm-up (from window {}): first {first:.1} MiB, last {last:.1} MiB, \
                     min {min:.1}, max {max:.1}: {}",
                    warm + 1,
                    if flat { "flat" } else { "GROWING" }
                ),
            )
        }
        _ => (true, "RSS not sampled (no --pid)".into()),
    };
    let worst_p99 = rows
        .iter()
        .map(|r| r["p99_ms"].as_f64().unwrap())
        .fold(0.0, f64::max);
    println!(
        "soak: {requests} requests over {}s on {} connections, {errors} errors; worst window p99 {worst_p99:.1} ms",
        a.duration.as_secs(),
        a.connections
    );
    println!("soak: {rss_note}");
    if let Some(path) = &a.json_out {
        let doc = json!({
            "connections": a.connections,
            "rate": a.rate,
            "duration_s": a.duration.as_secs(),
            "requests": requests,
            "errors": errors,
            "rss_flat": flat,
            "windows": rows,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).expect("write --json");
    }
    errors == 0 && flat
}
