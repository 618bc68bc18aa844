//! The subcommands: what `main` dispatches to.

use std::io::BufRead;

use anyhow::Context;

use crate::auth::PasswordHasher;
use crate::config::{Cli, Command, DatabaseArgs, ServeConfig, UserCommand, UserCreateArgs};
use crate::domain::{Email, Password, Timestamp, Username};
use crate::startup::{shutdown_signal, Application};
use crate::store::{self, NewUser};
use crate::telemetry;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(config).await,
        Some(Command::Migrate(db)) => migrate(db).await,
        Some(Command::User(UserCommand::Create(args))) => create_user(args).await,
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    let app = Application::build(&config).await?;
    let shutdown = shutdown_signal();
    app.run_until(shutdown).await
}

async fn migrate(db: DatabaseArgs) -> anyhow::Result<()> {
    store::connect(&db.database_url).await?;
    println!("migrations applied to {}", db.database_url);
    Ok(())
}

async fn create_user(args: UserCreateArgs) -> anyhow::Result<()> {
    let username =
        Username::parse(&args.username).map_err(|p| anyhow::anyhow!("invalid username: {p}"))?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = Password::parse(line.trim_end_matches(['\r', '\n']))
        .map_err(|p| anyhow::anyhow!("invalid password: {p}"))?;
    let email = args
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|p| anyhow::anyhow!("invalid email: {p}"))?;
    let store = store::connect(&args.database.database_url).await?;
    let password_hash = PasswordHasher::new().hash(&password).await?;
    let user = store
        .create_user(
            NewUser {
                username: username.as_str().to_owned(),
                email: email.map(Email::into_inner),
                password_hash,
                admin: args.admin,
            },
            Timestamp::now(),
        )
        .await
        .with_context(|| format!("creating user {}", username.as_str()))?;
    println!(
        "created {} {} (id {})",
        if user.admin { "admin" } else { "user" },
        user.username,
        user.id
    );
    Ok(())
}
