//! runqlint: keeps a git-committed run_queue.json honest.
//!
//! `main` only parses arguments, runs the command and turns the result into an exit code:
//! 0 no error-severity finding, 1 at least one, 2 could not check.

use std::process::ExitCode;

use clap::Parser;

use runqlint::cli::{Cli, Command};
use runqlint::{commands, output, text};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let args: Vec<_> = std::env::args_os().skip(1).collect();
            output::stderr(&format!(
                "runqlint: error: {}",
                runqlint::cli::usage_error(&e, &args)
            ));
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args).map(|s| s.errors == 0),
        Command::Fix(args) => commands::fix::run(args).map(|()| true),
        Command::Stale(args) => commands::stale::run(args).map(|()| true),
        Command::Explain(args) => commands::explain::explain(args).map(|()| true),
        Command::Rules(args) => commands::explain::rules(args).map(|()| true),
        Command::Schema => commands::explain::schema().map(|()| true),
        Command::InstallHook(args) => commands::install_hook::run(args).map(|()| true),
        Command::Log(args) => commands::log::run(args),
        Command::Audit(args) => commands::audit::run(args).map(|s| s.errors == 0),
        Command::MergeDriver(args) => commands::merge_driver::run(args),
        Command::Completions(args) => commands::completions::run(args).map(|()| true),
        Command::Trust(args) => commands::trust::run(args).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            output::stderr(&format!(
                "runqlint: error: {}",
                text::escape(&e.to_string())
            ));
            ExitCode::from(2)
        }
    }
}
