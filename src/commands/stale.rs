//! `runqlint stale`.
use crate::cli::StaleArgs;
use crate::error::{Error, Result};

pub fn run(_args: &StaleArgs) -> Result<()> {
    Err(Error::Usage("stale: not yet available".into()))
}
