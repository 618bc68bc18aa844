//! `user …` and `token …`: accounts from the shell, for the operator (the first admin, a
//! forgotten password, a compromised account).

use std::io::BufRead;

use anyhow::Context;

use crate::auth::PasswordHasher;
use crate::config::{
    DatabaseArgs, TokenCommand, UserCommand, UserCreateArgs, UserNameArgs, UserSetAdminArgs,
    UserSetPasswordArgs,
};
use crate::domain::{Email, Password, Timestamp, Username};
use crate::store::{self, Change, DynStore, NewUser, PageQuery, User, UserChanges};

pub(super) async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create(args) => create_user(args).await,
        UserCommand::List(db) => list(db).await,
        UserCommand::SetPassword(args) => set_password(args).await,
        UserCommand::SetAdmin(args) => set_admin(args).await,
        UserCommand::Delete(args) => delete(args).await,
    }
}

pub(super) async fn run_token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Revoke(args) => {
            let store = connect(&args.database).await?;
            let user = find(&store, &args.user).await?;
            let n = store.revoke_user_tokens(user.id).await?;
            println!("revoked {n} token(s) of {} (id {})", user.username, user.id);
            Ok(())
        }
    }
}

async fn connect(db: &DatabaseArgs) -> anyhow::Result<DynStore> {
    store::connect_with(&db.database_url, &db.connect_options(false)).await
}

/// The account named `name` (in any case), or an error saying there is none.
async fn find(store: &DynStore, name: &str) -> anyhow::Result<User> {
    let canonical = Username::parse(name)
        .map_err(|p| anyhow::anyhow!("{name:?} is not a username: {p}"))?
        .as_str()
        .to_ascii_lowercase();
    store
        .credentials(&canonical)
        .await?
        .map(|c| c.user)
        .ok_or_else(|| anyhow::anyhow!("there is no user {name:?}"))
}

fn read_password() -> anyhow::Result<Password> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Password::parse(line.trim_end_matches(['\r', '\n']))
        .map_err(|p| anyhow::anyhow!("invalid password: {p}"))
}

async fn list(db: DatabaseArgs) -> anyhow::Result<()> {
    let store = connect(&db).await?;
    println!(
        "{:>8}  {:<32}  {:<5}  {:<24}  email",
        "id", "username", "admin", "created"
    );
    let mut after = None;
    loop {
        let page = store
            .list_users(PageQuery { after, limit: 500 }, None)
            .await?;
        for u in &page {
            println!(
                "{:>8}  {:<32}  {:<5}  {:<24}  {}",
                u.id,
                u.username,
                u.admin,
                u.created_at.to_rfc3339(),
                u.email.as_deref().unwrap_or("-")
            );
        }
        match page.last() {
            Some(last) if page.len() == 500 => after = Some(last.id),
            _ => return Ok(()),
        }
    }
}

async fn set_password(args: UserSetPasswordArgs) -> anyhow::Result<()> {
    let password = read_password()?;
    let store = connect(&args.database).await?;
    let user = find(&store, &args.username).await?;
    let changes = UserChanges {
        password_hash: Some(PasswordHasher::new().hash(&password).await?),
        ..UserChanges::default()
    };
    changed(store.update_user(user.id, changes, None).await?, &user)?;
    println!(
        "set the password of {} (id {}); all of its sessions are logged out",
        user.username, user.id
    );
    Ok(())
}

async fn set_admin(args: UserSetAdminArgs) -> anyhow::Result<()> {
    let store = connect(&args.database).await?;
    let user = find(&store, &args.username).await?;
    let changes = UserChanges {
        admin: Some(args.admin),
        ..UserChanges::default()
    };
    let updated = changed(store.update_user(user.id, changes, None).await?, &user)?;
    println!(
        "{} (id {}) is {}",
        updated.username,
        updated.id,
        if updated.admin {
            "an admin"
        } else {
            "not an admin"
        }
    );
    Ok(())
}

async fn delete(args: UserNameArgs) -> anyhow::Result<()> {
    let store = connect(&args.database).await?;
    let user = find(&store, &args.username).await?;
    changed(store.delete_user(user.id, None).await?, &user)?;
    println!(
        "deleted {} (id {}) with its tokens and posts",
        user.username, user.id
    );
    Ok(())
}

/// A change made without a version can only miss when the user went away meanwhile.
fn changed<T>(change: Change<T>, user: &User) -> anyhow::Result<T> {
    match change {
        Change::Done(value) => Ok(value),
        Change::NotFound | Change::VersionMismatch => {
            anyhow::bail!("{} was deleted meanwhile", user.username)
        }
    }
}

pub(super) async fn create_user(args: UserCreateArgs) -> anyhow::Result<()> {
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
    let store = store::connect_with(
        &args.database.database_url,
        &args.database.connect_options(false),
    )
    .await?;
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
