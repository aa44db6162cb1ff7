//! `runqlint fix`.
use crate::cli::FixArgs;
use crate::error::{Error, Result};

pub fn run(_args: &FixArgs) -> Result<bool> {
    Err(Error::Usage("fix: not yet available".into()))
}
