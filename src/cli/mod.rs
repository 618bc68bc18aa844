//! The subcommands: what `main` dispatches to. Serving and migrating are here; accounts, moving
//! data and backups have a file each.

mod backup;
mod transfer;
mod users;

use crate::config::{Cli, Command, DatabaseArgs, ServeConfig};
use crate::startup::{shutdown_signal, Application};
use crate::store;
use crate::telemetry;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(*config).await,
        Some(Command::Migrate(db)) => migrate(db).await,
        Some(Command::User(command)) => users::run(command).await,
        Some(Command::Token(command)) => users::run_token(command).await,
        Some(Command::Export(args)) => transfer::export(args).await,
        Some(Command::Import(db)) => transfer::import(db).await,
        Some(Command::Backup(args)) => backup::run(args).await,
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let _logs = telemetry::init(config.log_format);
    let app = Application::build(&config).await?;
    let shutdown = shutdown_signal();
    app.run_until(shutdown).await
}

async fn migrate(db: DatabaseArgs) -> anyhow::Result<()> {
    store::connect_with(&db.database_url, &db.connect_options(false)).await?;
    println!(
        "migrations applied to {}",
        store::redact_url(&db.database_url)
    );
    Ok(())
}
