use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = postbase::config::hoist_leading_flags(std::env::args_os().collect());
    match postbase::cli::run(postbase::config::Cli::parse_from(args)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain on one line, cause last: what failed, then why.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
