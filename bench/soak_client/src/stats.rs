//! Latencies and errors, gathered per window by every connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One window's measurements.
#[derive(Default)]
pub struct Window {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    pub error_kinds: HashMap<String, u64>,
}

pub struct Shared {
    pub started: Instant,
    pub window: Duration,
    pub windows: Mutex<Vec<Window>>,
    pub open: AtomicUsize,
    pub total: AtomicU64,
}

impl Shared {
    fn index(&self) -> usize {
        (self.started.elapsed().as_secs_f64() / self.window.as_secs_f64()) as usize
    }

    pub fn record(&self, latency: Duration, error: Option<String>) {
        let i = self.index();
        let mut w = self.windows.lock().unwrap();
        if w.len() <= i {
            w.resize_with(i + 1, Window::default);
        }
        let w = &mut w[i];
        w.latencies_us
            .push(latency.as_micros().min(u32::MAX as u128) as u32);
        if let Some(kind) = error {
            w.errors += 1;
            *w.error_kinds.entry(kind).or_default() += 1;
        }
        self.total.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}
