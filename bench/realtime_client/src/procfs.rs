//! What `/proc` tells about the servers and the machine: memory and CPU time.

use std::time::Instant;

use serde_json::{json, Value};

use crate::args::Args;

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS, so the peak is this run's.
pub fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// utime + stime of a process in clock ticks (fields 14 and 15 of `stat`; the name before them
/// may contain spaces).
fn process_ticks(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.to_owned();
            let f: Vec<u64> = after
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|v| v.parse().ok())
                .collect();
            Some(f.iter().sum())
        })
        .unwrap_or(0)
}

/// utime + stime of every process called `name` (as `/proc/<pid>/comm` says).
fn named_ticks(name: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .map(|e| process_ticks(&e.path().join("stat").to_string_lossy()))
        .sum()
}

/// All processes' busy time from `/proc/stat`: all but idle and iowait.
fn machine_busy_ticks() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<u64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            Some(f.iter().sum::<u64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0)
}

/// CPU time so far of the machine, this client and the servers.
pub struct Cpu {
    at: Instant,
    busy: u64,
    client: u64,
    server: u64,
    write_server: u64,
    named: u64,
}

fn pid_ticks(pid: Option<u32>) -> u64 {
    pid.map_or(0, |p| process_ticks(&format!("/proc/{p}/stat")))
}

impl Cpu {
    pub fn now(a: &Args) -> Self {
        Self {
            at: Instant::now(),
            busy: machine_busy_ticks(),
            client: process_ticks("/proc/self/stat"),
            server: pid_ticks(a.pid),
            write_server: pid_ticks(a.write_pid.filter(|p| Some(*p) != a.pid)),
            named: a.comm.as_deref().map_or(0, named_ticks),
        }
    }

    /// Percent of one core each took since `self` (USER_HZ is 100 ticks a second); `others` is
    /// what the rest of the machine took, which makes a measurement noisy when it is high. (A
    /// named process that ended in between takes its ticks with it: they count as `others`.)
    pub fn since(&self, a: &Args) -> Value {
        let now = Self::now(a);
        let secs = (now.at - self.at).as_secs_f64().max(1e-3);
        let pct = |d: u64| (d as f64 / secs * 10.0).round() / 10.0;
        let client = now.client - self.client;
        let server = now.server - self.server;
        let write = now.write_server - self.write_server;
        let named = now.named.saturating_sub(self.named);
        let busy = now.busy - self.busy;
        json!({
            "client": pct(client),
            "server": pct(server),
            "write_server": a.write_pid.filter(|p| Some(*p) != a.pid).map(|_| pct(write)),
            "named": a.comm.as_ref().map(|name| json!({"name": name, "pct": pct(named)})),
            "others": pct(busy.saturating_sub(client + server + write + named)),
            "machine": pct(busy),
        })
    }
}
