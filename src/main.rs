//! The `eulcat` binary: parses the command line, sets up logging and hands
//! each command to the library. The only place that uses `anyhow`.

mod commands;

use std::process::ExitCode;

use clap::Parser;
use eulcat::config::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    eulcat::telemetry::init(cli.common.log_json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
