//! The command line: `--addr`, `--pid`, `--connections`, `--duration`, `--rate`, `--window`,
//! `--users`, `--json`.

use std::net::SocketAddr;
use std::time::Duration;

pub struct Args {
    pub addr: SocketAddr,
    pub pid: Option<u32>,
    pub connections: usize,
    pub duration: Duration,
    pub rate: f64,
    pub window: Duration,
    pub users: usize,
    pub json_out: Option<String>,
}

pub fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:8080".parse().unwrap(),
        pid: None,
        connections: 5000,
        duration: Duration::from_secs(600),
        rate: 2000.0,
        window: Duration::from_secs(30),
        users: 100,
        json_out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => a.addr = value().parse().expect("--addr HOST:PORT"),
            "--pid" => a.pid = Some(value().parse().expect("--pid N")),
            "--connections" => a.connections = value().parse().expect("--connections N"),
            "--duration" => {
                a.duration = Duration::from_secs(value().parse().expect("--duration SECONDS"))
            }
            "--rate" => a.rate = value().parse().expect("--rate REQUESTS_PER_SECOND"),
            "--window" => {
                a.window = Duration::from_secs(value().parse().expect("--window SECONDS"))
            }
            "--users" => a.users = value().parse().expect("--users N"),
            "--json" => a.json_out = Some(value()),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}
