use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    redress::cli::run(redress::cli::Cli::parse()).await
}
