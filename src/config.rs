//! `runqlint.toml` → validated settings. Parsing is strict: an unknown key is an error.
//!
//! ```toml
//! paths = ["run_queue.json"]      # queue files, relative to the repository root
//! stale-after = "6h"              # default threshold for stale-running (and fix)
//! max-file-size = "128MiB"        # refuse larger queue files (exit 2)
//!
//! [rules]
//! stale-running = "error"         # error | warn | off
//!
//! [fix]
//! mark = "failed"                 # failed | stale
//! requeue = false
//! max-attempts = 3
//! backup = true
//! alive-cmd = "dispatcher session-alive"
//! alive-sessions = "sessions.txt"
//! alive = "openclaw"              # a runtime answers instead (replaces the two above)
//! openclaw-bin = "openclaw"       # its executable: a name on PATH, or a path
//! ```
//!
//! The keys that name a program (`alive-cmd`, `openclaw-bin`) are read as
//! [`Untrusted`](crate::trust::Untrusted): a repository file's run only once the file is
//! approved (`runqlint trust`). The user's own file ([`UserConfig`], outside the repository)
//! holds only `[fix] alive`, `alive-cmd` and `openclaw-bin`, and is trusted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::rules::{Level, Rule};
use crate::trust::{ConfigFile, Source, Untrusted};

pub const FILE_NAME: &str = "runqlint.toml";
pub const DEFAULT_PATH: &str = "run_queue.json";
pub const DEFAULT_STALE_AFTER_MS: i64 = 6 * 3_600_000;
pub const DEFAULT_MAX_FILE_SIZE: u64 = 128 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    paths: Option<Vec<String>>,
    stale_after: Option<DurationValue>,
    max_file_size: Option<SizeValue>,
    #[serde(default)]
    rules: BTreeMap<String, Level>,
    #[serde(default)]
    fix: RawFix,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFix {
    mark: Option<Mark>,
    requeue: Option<bool>,
    max_attempts: Option<u32>,
    backup: Option<bool>,
    alive_cmd: Option<String>,
    alive_sessions: Option<PathBuf>,
    alive: Option<Runtime>,
    openclaw_bin: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Ms(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// What `fix --mark` does to a dead running item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    Failed,
    Stale,
}

impl Mark {
    /// The status a marked item gets.
    pub fn status(self) -> crate::queue::Status {
        match self {
            Mark::Failed => crate::queue::Status::Failed,
            Mark::Stale => crate::queue::Status::Stale,
        }
    }
}

/// A runtime that answers for its own child runs (`--alive`, `[fix] alive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// OpenClaw's task ledger, through the `openclaw` command line.
    #[value(name = "openclaw")]
    OpenClaw,
}

/// Settings after validation; flags are applied on top by the commands.
#[derive(Debug, Clone)]
pub struct Config {
    pub paths: Vec<String>,
    pub stale_after_ms: i64,
    pub max_file_size: u64,
    pub levels: Levels,
    pub fix: FixDefaults,
    /// The file the settings came from (none: the defaults).
    pub file: Option<Arc<ConfigFile>>,
}

#[derive(Debug, Clone)]
pub struct FixDefaults {
    pub mark: Mark,
    pub requeue: bool,
    pub max_attempts: u32,
    pub backup: bool,
    /// `alive-cmd`: runs only once the file is approved.
    pub alive_cmd: Option<Untrusted>,
    pub alive_sessions: Option<PathBuf>,
    pub alive: Option<Runtime>,
    /// `openclaw-bin`: runs only once the file is approved.
    pub openclaw_bin: Option<Untrusted>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            paths: vec![DEFAULT_PATH.to_string()],
            stale_after_ms: DEFAULT_STALE_AFTER_MS,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            levels: Levels::default(),
            fix: FixDefaults {
                mark: Mark::Failed,
                requeue: false,
                max_attempts: 3,
                backup: true,
                alive_cmd: None,
                alive_sessions: None,
                alive: None,
                openclaw_bin: None,
            },
            file: None,
        }
    }
}

/// The level of every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Levels([Level; Rule::ALL.len()]);

impl Default for Levels {
    fn default() -> Self {
        Levels(Rule::ALL.map(Rule::default_level))
    }
}

impl Levels {
    pub fn get(&self, rule: Rule) -> Level {
        self.0[rule as usize]
    }
    pub fn set(&mut self, rule: Rule, level: Level) {
        self.0[rule as usize] = level;
    }
}

impl Config {
    /// Reads `file` if given (it must exist), else `runqlint.toml` in `root` if present.
    /// `named`: the repository was found from a path on the command line (so the command
    /// that approves the file names it).
    pub fn load(file: Option<&Path>, root: &Path, named: bool) -> Result<Config> {
        let path = match file {
            Some(f) => f.to_path_buf(),
            None => {
                let p = root.join(FILE_NAME);
                if !p.is_file() {
                    return Ok(Config::default());
                }
                p
            }
        };
        let bytes = std::fs::read(&path).map_err(|e| crate::error::io(&path, "read", e))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::Usage(format!("{}: is not UTF-8 text", path.display())))?;
        let source = Arc::new(ConfigFile::new(
            &path,
            &bytes,
            root,
            named || file.is_some(),
        ));
        Config::parse_file(text, source)
            .map_err(|m| Error::Usage(format!("{}: {m}", path.display())))
    }

    /// Parses and validates config text, read from no file (its programs can never be
    /// approved); the error is one line.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        Config::parse_file(
            text,
            Arc::new(ConfigFile::unread(Path::new(FILE_NAME), text.as_bytes())),
        )
    }

    fn parse_file(text: &str, file: Arc<ConfigFile>) -> std::result::Result<Config, String> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let mut config = Config::default();
        if let Some(paths) = raw.paths {
            if paths.is_empty() || paths.iter().any(|p| p.trim().is_empty()) {
                return Err("`paths` must list at least one non-empty path".into());
            }
            config.paths = paths;
        }
        if let Some(d) = raw.stale_after {
            config.stale_after_ms = match d {
                DurationValue::Ms(ms) if ms > 0 => ms,
                DurationValue::Ms(ms) => {
                    return Err(format!("`stale-after` must be positive, not {ms}"))
                }
                DurationValue::Text(t) => {
                    parse_duration(&t).map_err(|e| format!("`stale-after`: {e}"))?
                }
            };
        }
        if let Some(s) = raw.max_file_size {
            config.max_file_size = match s {
                SizeValue::Bytes(b) => b,
                SizeValue::Text(t) => {
                    parse_size(&t).map_err(|e| format!("`max-file-size`: {e}"))?
                }
            };
        }
        for (name, level) in raw.rules {
            let rule = Rule::from_name(&name)
                .ok_or_else(|| format!("[rules]: unknown rule `{name}` (see `runqlint rules`)"))?;
            config.levels.set(rule, level);
        }
        let f = raw.fix;
        if let Some(m) = f.mark {
            config.fix.mark = m;
        }
        if let Some(r) = f.requeue {
            config.fix.requeue = r;
        }
        if let Some(n) = f.max_attempts {
            if n == 0 {
                return Err("[fix] `max-attempts` must be at least 1".into());
            }
            config.fix.max_attempts = n;
        }
        if let Some(b) = f.backup {
            config.fix.backup = b;
        }
        let source = Source::Repository(file.clone());
        config.fix.alive_cmd = f
            .alive_cmd
            .map(|c| Untrusted::command_line(ALIVE_CMD, &c, source.clone()))
            .transpose()
            .map_err(|e| e.to_string())?;
        config.fix.alive_sessions = f.alive_sessions;
        config.fix.alive = f.alive;
        config.fix.openclaw_bin = f
            .openclaw_bin
            .map(|p| Untrusted::executable(OPENCLAW_BIN, p, source))
            .transpose()
            .map_err(|e| e.to_string())?;
        config.file = Some(file);
        Ok(config)
    }
}

/// The keys that name a program, as messages name them.
pub const ALIVE_CMD: &str = "[fix] alive-cmd";
pub const OPENCLAW_BIN: &str = "[fix] openclaw-bin";

/// A TOML error as one line with its position.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let (line, col) = crate::document::line_col(text, span.start);
            format!("line {line} column {col}: {msg}")
        }
        None => msg,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    #[serde(default)]
    fix: RawUserFix,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawUserFix {
    alive: Option<Runtime>,
    alive_cmd: Option<String>,
    openclaw_bin: Option<PathBuf>,
}

/// The user's own configuration ([`crate::trust::user_config_path`]): the runtime and the
/// programs `fix` and `stale` ask when neither the command line, the environment nor the
/// repository's `runqlint.toml` names one. Read only by those two commands.
#[derive(Debug, Default)]
pub struct UserConfig {
    pub alive: Option<Runtime>,
    pub alive_cmd: Option<Untrusted>,
    pub openclaw_bin: Option<Untrusted>,
}

impl UserConfig {
    /// Reads the user's file if there is one.
    pub fn load() -> Result<UserConfig> {
        let Some(path) = crate::trust::user_config_path() else {
            return Ok(UserConfig::default());
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(UserConfig::default()),
            Err(e) => return Err(crate::error::io(&path, "read", e)),
        };
        let usage = |m: String| Error::Usage(format!("{}: {m}", path.display()));
        let raw: RawUser = toml::from_str(&text).map_err(|e| {
            usage(format!(
                "{} (it holds only [fix] alive, alive-cmd and openclaw-bin)",
                toml_error(&text, &e)
            ))
        })?;
        let source = Source::User(path.clone());
        Ok(UserConfig {
            alive: raw.fix.alive,
            alive_cmd: raw
                .fix
                .alive_cmd
                .map(|c| Untrusted::command_line(ALIVE_CMD, &c, source.clone()))
                .transpose()
                .map_err(|e| usage(e.to_string()))?,
            openclaw_bin: raw
                .fix
                .openclaw_bin
                .map(|p| Untrusted::executable(OPENCLAW_BIN, p, source))
                .transpose()
                .map_err(|e| usage(e.to_string()))?,
        })
    }
}

/// `90m`, `6h`, `1d`, `30s`, `1500ms` or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> std::result::Result<i64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 90m, 6h, 1d or milliseconds"))?;
    let factor = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => {
            return Err(format!(
                "`{s}` is not a duration like 90m, 6h, 1d or milliseconds"
            ))
        }
    };
    match n.checked_mul(factor) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!("`{s}` must be a positive duration")),
    }
}

/// `128MiB`, `200MB`, `1GiB`, `4096` (bytes).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 128MiB"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1000,
        "KiB" => 1024,
        "MB" => 1000 * 1000,
        "MiB" => 1024 * 1024,
        "GB" => 1000 * 1000 * 1000,
        "GiB" => 1024 * 1024 * 1024,
        _ => return Err(format!("`{s}` is not a size like 128MiB")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// RFC 3339 (`2026-11-25T09:00:00Z`) or integer epoch milliseconds.
pub fn parse_time(s: &str) -> std::result::Result<i64, String> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("`{s}` is not an RFC 3339 time or epoch milliseconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_sizes_and_times() {
        assert_eq!(parse_duration("90m"), Ok(5_400_000));
        assert_eq!(parse_duration("6h"), Ok(21_600_000));
        assert_eq!(parse_duration("1d"), Ok(86_400_000));
        assert_eq!(parse_duration("1500"), Ok(1500));
        assert!(parse_duration("6 hours").is_err());
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert_eq!(parse_time("2026-11-25T00:00:00Z"), Ok(1_795_564_800_000));
        assert_eq!(parse_time("1795564800000"), Ok(1_795_564_800_000));
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn config_is_strict() {
        let c = Config::parse("paths = [\"q/run_queue.json\"]\nstale-after = \"1d\"\n[rules]\nstale-running = \"error\"\n[fix]\nmark = \"stale\"\n").unwrap();
        assert_eq!(c.paths, ["q/run_queue.json"]);
        assert_eq!(c.stale_after_ms, 86_400_000);
        assert_eq!(c.levels.get(Rule::StaleRunning), Level::Error);
        assert_eq!(c.fix.mark, Mark::Stale);
        let e = Config::parse("stale_after = \"1d\"").unwrap_err();
        assert!(e.contains("line 1") && e.contains("stale_after"), "{e}");
        assert!(Config::parse("[rules]\nno-such-rule = \"off\"")
            .unwrap_err()
            .contains("no-such-rule"));
        assert!(Config::parse("[rules]\nschema = \"fatal\"").is_err());
        assert!(Config::parse("[fix]\ncolour = true").is_err());
    }
}
