//! The `pulseboard` binary: parse the command line and hand over to the library.

use clap::{CommandFactory, FromArgMatches};
use pulseboard_server::{cli::Cli, config::provider_settings_help};

fn main() -> std::process::ExitCode {
    let matches = Cli::command()
        .after_long_help(provider_settings_help())
        .get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("failed to start the async runtime");
    match runtime.block_on(pulseboard_server::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pulseboard: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
