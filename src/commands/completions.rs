//! `runqlint completions SHELL`: the completion script clap derives from the command line.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Result};
use crate::output;

pub fn run(args: &CompletionsArgs) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "runqlint", &mut script);
    let script = String::from_utf8(script)
        .map_err(|_| Error::Bug("a completion script is not UTF-8".into()))?;
    output::stdout(&script).map_err(|e| Error::Io(format!("stdout: {e}")))
}
