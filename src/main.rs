use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    postbase::cli::run(postbase::config::Cli::parse()).await
}
