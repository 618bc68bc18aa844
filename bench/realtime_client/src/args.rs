//! The command line. `rate`: the most `POST /api/posts` a server answers; `stream`: streams held,
//! posts written at a fixed rate, every event checked and timed. Flags as in main.rs's docs.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Rate,
    Stream,
}

pub struct Args {
    pub mode: Mode,
    /// Where posts are written.
    pub write_addr: SocketAddr,
    /// Where the streams are opened (another instance on the same database, or the same).
    pub stream_addr: SocketAddr,
    /// The server measured: its RSS and CPU are reported (in `stream` mode, the one holding the
    /// streams).
    pub pid: Option<u32>,
    /// The instance taking the writes, when it is another process: its CPU is reported.
    pub write_pid: Option<u32>,
    /// Processes of this name (e.g. `postgres`) whose CPU is reported together, apart from
    /// "everything else".
    pub comm: Option<String>,
    /// Line `u` is the token of user id `u` (1-based).
    pub tokens: Vec<String>,
    /// Authors the writes go round over, users 1..=authors; `author=` streams follow them.
    pub authors: usize,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub rate: f64,
    pub streams: usize,
    /// Of `streams`, how many ask for the default topics (every post) rather than one author's.
    pub all_streams: usize,
    /// Streams being opened at once.
    pub open_concurrency: usize,
    /// Between the last stream opening and the first write: the RSS of holding them idle.
    pub hold: Duration,
    /// After the last write, how long stragglers may take to arrive.
    pub drain: Duration,
    pub json_out: Option<String>,
}

fn secs(v: String, flag: &str) -> Duration {
    Duration::from_secs_f64(v.parse().unwrap_or_else(|_| panic!("{flag} SECONDS")))
}

pub fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mode = match it.next().as_deref() {
        Some("rate") => Mode::Rate,
        Some("stream") => Mode::Stream,
        _ => {
            panic!("usage: postbase-realtime rate|stream --write-addr HOST:PORT --tokens FILE ...")
        }
    };
    let mut a = Args {
        mode,
        write_addr: "127.0.0.1:8080".parse().unwrap(),
        stream_addr: "127.0.0.1:8080".parse().unwrap(),
        pid: None,
        write_pid: None,
        comm: None,
        tokens: Vec::new(),
        authors: 0,
        connections: 64,
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        rate: 100.0,
        streams: 1000,
        all_streams: 0,
        open_concurrency: 64,
        hold: Duration::from_secs(2),
        drain: Duration::from_secs(10),
        json_out: None,
    };
    let mut stream_addr = None;
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--write-addr" => a.write_addr = value().parse().expect("--write-addr HOST:PORT"),
            "--stream-addr" => {
                stream_addr = Some(value().parse().expect("--stream-addr HOST:PORT"))
            }
            "--pid" => a.pid = Some(value().parse().expect("--pid N")),
            "--write-pid" => a.write_pid = Some(value().parse().expect("--write-pid N")),
            "--cpu-of" => a.comm = Some(value()),
            "--tokens" => {
                let path = value();
                let text = std::fs::read_to_string(&path).expect("--tokens FILE readable");
                a.tokens = text.lines().map(str::to_owned).collect();
            }
            "--authors" => a.authors = value().parse().expect("--authors N"),
            "--connections" => a.connections = value().parse().expect("--connections N"),
            "--duration" => a.duration = secs(value(), "--duration"),
            "--warmup" => a.warmup = secs(value(), "--warmup"),
            "--rate" => a.rate = value().parse().expect("--rate POSTS_PER_SECOND"),
            "--streams" => a.streams = value().parse().expect("--streams N"),
            "--all-streams" => a.all_streams = value().parse().expect("--all-streams N"),
            "--open-concurrency" => {
                a.open_concurrency = value().parse().expect("--open-concurrency N")
            }
            "--hold" => a.hold = secs(value(), "--hold"),
            "--drain" => a.drain = secs(value(), "--drain"),
            "--json" => a.json_out = Some(value()),
            other => panic!("unknown argument {other}"),
        }
    }
    a.stream_addr = stream_addr.unwrap_or(a.write_addr);
    assert!(!a.tokens.is_empty(), "--tokens FILE is required");
    if a.authors == 0 || a.authors > a.tokens.len() {
        a.authors = a.tokens.len();
    }
    a.all_streams = a.all_streams.min(a.streams);
    a
}
