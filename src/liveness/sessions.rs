//! `--alive-sessions FILE`: a list of live session keys, one per line (blank lines and `#`
//! comments skipped) or a JSON array of strings. A listed key is alive.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{io, Error, Result};

/// Reads the list of live keys.
pub fn read(path: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, "read", e))?;
    if text.trim_start().starts_with('[') {
        let keys: Vec<String> = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{}: not a JSON array of strings: {e}",
                path.display()
            ))
        })?;
        return Ok(keys.into_iter().collect());
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}
