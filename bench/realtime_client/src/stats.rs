//! Percentiles, and the server's RSS sampled through the run's phases.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::procfs::status_kib;

/// p50, p90, p99 and max in milliseconds of microsecond samples (sorted here).
pub fn percentiles_ms(us: &mut [i64]) -> Value {
    us.sort_unstable();
    let at = |p: f64| {
        if us.is_empty() {
            return Value::Null;
        }
        let i = ((us.len() as f64 * p).ceil() as usize).clamp(1, us.len()) - 1;
        json!((us[i] as f64 / 10.0).round() / 100.0)
    };
    json!({"count": us.len(), "p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": at(1.0)})
}

/// The phases of a `stream` run, in order.
pub const OPENING: u8 = 0;
pub const HOLDING: u8 = 1;
pub const WRITING: u8 = 2;
pub const DRAINING: u8 = 3;

/// `VmRSS` of a process every 200 ms, tagged with the phase it was taken in.
pub struct Sampler {
    phase: Arc<AtomicU8>,
    samples: Arc<Mutex<Vec<(u8, u64)>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Sampler {
    pub fn start(pid: Option<u32>) -> Self {
        let phase = Arc::new(AtomicU8::new(OPENING));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let task = pid.map(|pid| {
            let (phase, samples) = (phase.clone(), samples.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(200));
                loop {
                    tick.tick().await;
                    if let Some(kib) = status_kib(pid, "VmRSS") {
                        let p = phase.load(Ordering::Relaxed);
                        samples.lock().unwrap().push((p, kib));
                    }
                }
            })
        });
        Self {
            phase,
            samples,
            task,
        }
    }

    pub fn phase(&self, p: u8) {
        self.phase.store(p, Ordering::Relaxed);
    }

    /// Stops sampling; the samples per phase.
    pub fn finish(mut self) -> Vec<(u8, u64)> {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        std::mem::take(&mut *self.samples.lock().unwrap())
    }
}

/// The RSS summary in MiB: `holding` is the last sample before the writes; `steady` the median
/// of the samples while writing; `peak` the highest sample (VmHWM is reported beside it).
pub fn rss_summary(samples: &[(u8, u64)], before_kib: Option<u64>, hwm_kib: Option<u64>) -> Value {
    let mib = |k: u64| (k as f64 / 1024.0 * 10.0).round() / 10.0;
    let holding = samples
        .iter()
        .rev()
        .find(|s| s.0 <= HOLDING)
        .map(|s| mib(s.1));
    let mut writing: Vec<u64> = samples
        .iter()
        .filter(|s| s.0 == WRITING)
        .map(|s| s.1)
        .collect();
    writing.sort_unstable();
    let steady = writing.get(writing.len() / 2).map(|k| mib(*k));
    let peak = samples.iter().map(|s| s.1).max().map(mib);
    json!({
        "before_mib": before_kib.map(mib),
        "holding_mib": holding,
        "steady_mib": steady,
        "peak_sampled_mib": peak,
        "hwm_mib": hwm_kib.map(mib),
        "samples": samples.len(),
    })
}
