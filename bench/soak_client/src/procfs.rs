//! What `/proc` tells about the server and the machine: RSS and CPU time.

pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time in clock ticks: (all processes' busy time from `/proc/stat`, this process's, the
/// server's). What is left after the server and the generator is what other programs on the
/// machine took: a window's latency means little when that is high.
pub fn cpu_ticks(pid: Option<u32>) -> (u64, u64, u64) {
    fn process(path: &str) -> u64 {
        // utime and stime are fields 14 and 15; the name before them may contain spaces.
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
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<u64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
            Some(f.iter().sum::<u64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0);
    let server = pid.map_or(0, |p| process(&format!("/proc/{p}/stat")));
    (busy, process("/proc/self/stat"), server)
}
