//! A throwaway PostgreSQL cluster of a test's own: `initdb` in a temporary directory, TLS on with
//! the certificate the test gives, listening on 127.0.0.1 and a free port only, stopped
//! (`pg_ctl stop -m immediate`) and deleted when dropped. For what the shared test server cannot
//! be reconfigured to do, such as serving a certificate from a CA the test made.
//!
//! initdb refuses to run as root, and tests run as root in CI: then initdb and pg_ctl run as the
//! `postgres` system user, which owns the directory.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

pub(crate) struct Cluster {
    pub port: u16,
    bin: PathBuf,
    /// Last, so the directory is deleted after the server has stopped.
    dir: TempDir,
}

impl Cluster {
    /// Starts a cluster serving `cert_pem` with `key_pem`. Blocks for a few seconds.
    pub(crate) fn start(cert_pem: &str, key_pem: &str) -> Self {
        Self::start_with(Some((cert_pem, key_pem)))
    }

    /// Starts a cluster without TLS: the PostgreSQL half of the suite runs on one of these when
    /// no server is named. It lives as long as the test process: a watchdog stops and deletes it
    /// when the process is gone (a `static` is never dropped).
    pub(crate) fn start_for_this_process() -> String {
        let cluster = Self::start_with(None);
        let url = cluster.url("127.0.0.1", "sslmode=disable");
        let pg_ctl = cluster.bin.join("pg_ctl");
        let stop = format!(
            "{} {} -D {} -m immediate -w stop",
            if running_as_root() {
                "runuser -u postgres --"
            } else {
                ""
            },
            pg_ctl.display(),
            cluster.data().display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = cluster.dir.path().display()
        );
        let mut watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the cluster's watchdog starts");
        // Reaped if it ends first (it does not: it outlives this process by design).
        std::thread::spawn(move || watchdog.wait());
        std::mem::forget(cluster);
        url
    }

    fn start_with(tls: Option<(&str, &str)>) -> Self {
        let bin = postgres_bin_dir();
        let dir = tempfile::tempdir().expect("temp dir");
        let cluster = Self {
            port: free_port(),
            bin,
            dir,
        };
        if let Some((cert_pem, key_pem)) = tls {
            cluster.write_file("server.crt", cert_pem);
            cluster.write_file("server.key", key_pem);
        }
        if running_as_root() {
            let chowned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .expect("chown runs");
            assert!(chowned.success(), "chown to postgres");
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
                // As the databases postbase usually meets: letters beyond ASCII have a case
                // (full-text search lower-cases them). glibc's C.UTF-8 where there is one.
                if std::path::Path::new("/usr/lib/locale/C.utf8").exists() {
                    "--lc-ctype=C.UTF-8"
                } else {
                    "--lc-ctype=C"
                },
            ],
        );
        let dir = cluster.dir.path().display();
        let ssl = match tls {
            Some(_) => format!(
                "ssl = on\nssl_cert_file = '{dir}/server.crt'\nssl_key_file = '{dir}/server.key'\n"
            ),
            None => "ssl = off\n".to_owned(),
        };
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{dir}'\n\
             {ssl}fsync = off\nmax_connections = 300\n",
            cluster.port
        );
        fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(settings.as_bytes()))
            .expect("postgresql.conf");
        let log = cluster.dir.path().join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        cluster
    }

    /// A database URL for the cluster's `postgres` database, reached as `host`, with `query`.
    pub(crate) fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.port)
    }

    /// Writes a file into the cluster's directory, readable by its owner only (the server refuses
    /// a key file others can read); returns its path.
    pub(crate) fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut file = fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .expect("a file in the cluster's directory");
        file.write_all(contents.as_bytes()).unwrap();
        if running_as_root() {
            // The key must belong to the user the server runs as.
            let _ = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&path)
                .status();
        }
        path
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs a PostgreSQL program, as `postgres` when this is root; panics with its output and
    /// the server's log if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        if !output.status.success() {
            let log = fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{} {args:?}: {}\n{}{}\nserver log:\n{log}",
                program.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", path_str(&data), "-m", "immediate", "-w", "stop"];
        let mut command = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let _ = command
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Where initdb and pg_ctl are: on PATH, else Debian's /usr/lib/postgresql/VERSION/bin (newest).
fn postgres_bin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file());
    if let Some(dir) = on_path {
        return dir;
    }
    let mut debian: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("initdb").is_file())
                .collect()
        })
        .unwrap_or_default();
    debian.sort_by_key(|bin| {
        let version = bin.parent().and_then(Path::file_name);
        version.and_then(|v| v.to_str()?.parse::<u32>().ok())
    });
    debian
        .pop()
        .expect("initdb and pg_ctl: neither on PATH nor in /usr/lib/postgresql/*/bin")
}

fn running_as_root() -> bool {
    // /proc/self belongs to the process's effective user.
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}
