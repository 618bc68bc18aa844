//! The postbase process under test: started on port 0, killed with SIGKILL, dropped gracefully.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

pub(crate) struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub(crate) fn start(database_url: &str, synchronous: Option<&str>) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "text"])
            .args(["--database-url", database_url]);
        if let Some(mode) = synchronous {
            command.args(["--sqlite-synchronous", mode]);
        }
        let mut child = command
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("postbase starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("postbase printed `listening on` before exiting")
                .expect("postbase's output is text");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Drain the logs so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            base: format!("http://{addr}"),
        }
    }

    pub(crate) fn sigkill(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        kill(pid, Signal::SIGKILL).expect("SIGKILL delivered");
        self.child.wait().expect("the killed server is reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
