//! `runqlint install-hook`.
use crate::cli::InstallHookArgs;
use crate::error::{Error, Result};

pub fn run(_args: &InstallHookArgs) -> Result<()> {
    Err(Error::Usage("install-hook: not yet available".into()))
}
