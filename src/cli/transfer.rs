//! `export` and `import`: a whole instance as JSON Lines (the format is `store::transfer`'s).

use std::io::IsTerminal;

use anyhow::Context;

use crate::config::{DatabaseArgs, ExportArgs};
use crate::store;

/// A progress display on standard error when it is a terminal; nothing at all otherwise.
fn progress(len: Option<u64>, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match len {
        Some(len) => indicatif::ProgressBar::new(len).with_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        ),
        None => indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg}: {pos} rows ({per_sec})")
                .expect("a valid template"),
        ),
    };
    bar.set_message(what.to_owned());
    bar
}

pub(super) async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let db = args.database;
    let options = store::ConnectOptions {
        create: false,
        ..db.connect_options(false)
    };
    let store = store::connect_with(&db.database_url, &options).await?;
    let bar = progress(None, "exporting");
    let sink: Box<dyn std::io::Write> = match &args.output {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("creating {}", path.display()))?;
            Box::new(file)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(sink);
    let counts = store::transfer::export(&store, &mut out, &bar).await?;
    std::io::Write::flush(&mut out)?;
    bar.finish_and_clear();
    eprintln!("exported {counts}");
    Ok(())
}

pub(super) async fn import(db: DatabaseArgs) -> anyhow::Result<()> {
    let store = store::connect_with(&db.database_url, &db.connect_options(false)).await?;
    // Read on a blocking thread of its own (see `transfer::import`), hence an owned reader.
    let stdin = std::io::BufReader::with_capacity(1 << 16, std::io::stdin());
    // A file or a pipe from `cat file` may say its size; then the bar shows bytes of it.
    let len = stdin_len();
    let bar = progress(len, "importing");
    let imported = store::transfer::import(&store, stdin, &bar)
        .await
        .context("importing")?;
    bar.finish_and_clear();
    if !imported.verified {
        eprintln!(
            "warning: a version 1 dump has no trailer, so its completeness cannot be verified: \
             if it was cut short, the rows it lost are missing; compare the counts below with \
             those its export printed"
        );
    }
    eprintln!(
        "imported {} into {} (admins among the users: {})",
        imported.counts,
        store::redact_url(&db.database_url),
        imported.admins
    );
    Ok(())
}

#[cfg(unix)]
fn stdin_len() -> Option<u64> {
    let meta = std::fs::metadata("/dev/stdin").ok()?;
    meta.is_file().then_some(meta.len())
}

#[cfg(not(unix))]
fn stdin_len() -> Option<u64> {
    None
}
