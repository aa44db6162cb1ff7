//! Command-line definitions. The doc comments are the `--help` text.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::Mark;
use crate::output::{Format, ReportFormat};

/// Keeps a git-committed run_queue.json honest: schema and history rules, a pre-commit and
/// CI gate, and a safe repair for stale running items.
#[derive(Debug, Parser)]
#[command(
    name = "runqlint",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Check(CheckArgs),
    Fix(FixArgs),
    Stale(StaleArgs),
    Explain(ExplainArgs),
    Rules(RulesArgs),
    /// Print the run-queue JSON Schema (draft 2020-12) that the `schema` rule validates
    /// against.
    Schema,
    InstallHook(InstallHookArgs),
    Log(LogArgs),
    Audit(AuditArgs),
    MergeDriver(MergeDriverArgs),
    Completions(CompletionsArgs),
    Trust(TrustArgs),
}

/// Check queue files: the JSON Schema, the single-file rules, and the history rules against
/// a base version (HEAD by default).
///
/// Exit status: 0 no error-severity finding, 1 at least one, 2 could not check.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Queue files to check [default: `paths` from runqlint.toml, else run_queue.json at the
    /// repository root].
    pub paths: Vec<PathBuf>,
    /// Check the version in the git index (what a commit would record) against HEAD.
    #[arg(long)]
    pub staged: bool,
    /// Compare with this revision instead of HEAD (branch, origin/main, SHA, tag).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub common: Common,
    /// Make RULE an error (repeatable; `all` for every rule).
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,
    /// Make RULE a warning (repeatable; `all` for every rule).
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,
    /// Turn RULE off (repeatable; `all` for every rule).
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
}

/// Options shared by check, fix and stale.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// The current time, for reproducible staleness: RFC 3339 or epoch milliseconds.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Default stale threshold for running items without `run.staleAfterMs` (90m, 6h, 1d or
    /// milliseconds) [default: 6h].
    #[arg(long, value_name = "DUR")]
    pub stale_after: Option<String>,
    /// Read this config file instead of runqlint.toml at the repository root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Repair stale running items by policy: back up the file, mark dead runs failed (or stale)
/// with a triage note, optionally requeue them as new items, and commit only that file with
/// a receipt in the message.
///
/// Never deletes an item, never touches a terminal item, writes only the bytes that change.
#[derive(Debug, Args)]
pub struct FixArgs {
    /// The queue file [default: the first configured path].
    pub path: Option<PathBuf>,
    /// Print the diff and the commit message; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the file (and the backup) but do not commit.
    #[arg(long)]
    pub no_commit: bool,
    /// What a dead running item becomes [default: failed].
    #[arg(long, value_enum)]
    pub mark: Option<Mark>,
    /// Append a new `queued` item for each repaired one.
    #[arg(long)]
    pub requeue: bool,
    /// Refuse to requeue an item whose `run.attempt` would exceed N [default: 3].
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<u32>,
    /// Command that tells whether a child session is alive: run without a shell, with the
    /// item's `run.childSessionKey` appended; exit 0 alive, 1 dead, else unknown [default:
    /// $RUNQLINT_ALIVE_CMD, else `[fix] alive-cmd` of an approved runqlint.toml (see `runqlint
    /// trust`), else of your own config file].
    #[arg(long, value_name = "CMD")]
    pub alive_cmd: Option<String>,
    /// File listing live session keys (one per line, or a JSON array of strings).
    #[arg(long, value_name = "FILE")]
    pub alive_sessions: Option<PathBuf>,
    #[command(flatten)]
    pub alive: AliveArgs,
    /// Repair only the running item(s) whose `run.childSessionKey` is KEY, whatever their
    /// age (the runtime says that session ended); other items are left as they are.
    #[arg(long, value_name = "KEY")]
    pub session: Option<String>,
    /// The session's end as the runtime reported it (OpenClaw's `subagent_ended` outcome):
    /// used when the liveness answer has no recorded end [ok → done, error/timeout →
    /// failed, killed/reset/deleted → canceled].
    #[arg(long, value_enum, value_name = "OUTCOME", requires = "session")]
    pub ended: Option<crate::liveness::openclaw::Outcome>,
    /// When the session ended (RFC 3339 or epoch milliseconds) [default: now].
    #[arg(long, value_name = "TIME", requires = "ended")]
    pub ended_at: Option<String>,
    /// The runtime's error text for the ended session (becomes `run.error`).
    #[arg(long, value_name = "TEXT", requires = "ended")]
    pub ended_error: Option<String>,
    /// Proceed even if the queue file has uncommitted changes.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Receipt run id for the commit trailer [default: generated].
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Receipt artifact (a path or URL) for the commit trailer.
    #[arg(long, value_name = "PATH")]
    pub artifact: Option<String>,
    /// Do not write a backup copy of the original file.
    #[arg(long)]
    pub no_backup: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub common: Common,
}

/// Which runtime answers for child runs, shared by `fix` and `stale`.
#[derive(Debug, Args)]
pub struct AliveArgs {
    /// Ask this runtime about each stale item's `run.childSessionKey` (replaces --alive-cmd
    /// and --alive-sessions) [default: `[fix] alive`].
    #[arg(long, value_enum, value_name = "RUNTIME")]
    pub alive: Option<crate::config::Runtime>,
    /// The `openclaw` executable [default: $RUNQLINT_OPENCLAW_BIN, else `[fix] openclaw-bin`
    /// of an approved runqlint.toml (see `runqlint trust`), else of your own config file, else
    /// `openclaw` on PATH].
    #[arg(long, value_name = "PATH")]
    pub openclaw_bin: Option<PathBuf>,
    /// How long a liveness process may run before its answer counts as unknown (it is
    /// killed) [default: 10s; 60s for --alive].
    #[arg(long, value_name = "DUR")]
    pub alive_timeout: Option<String>,
}

/// List running items that are stale (the report a dispatcher logs each cycle).
#[derive(Debug, Args)]
pub struct StaleArgs {
    /// The queue file [default: the first configured path].
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub alive: AliveArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub common: Common,
}

/// Explain a rule: what it checks, why it matters, an example, how to fix it.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule name, as `runqlint rules` lists them.
    pub rule: String,
}

/// List every rule with its default severity.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

/// Install the pre-commit hook into this repository's hooks directory (honours
/// core.hooksPath and worktrees) and register the merge driver in its config.
#[derive(Debug, Args)]
pub struct InstallHookArgs {
    /// Replace an existing, different pre-commit hook (it is kept as pre-commit.runqlint-backup).
    #[arg(long)]
    pub force: bool,
    /// Also write the `.gitattributes` line that routes queue files to the merge driver
    /// (`run_queue.json merge=runqlint`), after the line that decides today as `git
    /// check-attr` says (in a subdirectory's `.gitattributes` when that one decides).
    #[arg(long)]
    pub gitattributes: bool,
}

/// git merge driver for queue files: a three-way merge by item id (`runqlint install-hook`
/// registers it; `.gitattributes` routes files to it with `run_queue.json merge=runqlint`).
///
/// Writes the result over OURS. Exit status: 0 merged cleanly, 1 conflicts left between
/// markers (one line each on stderr), 2 could not merge (OURS untouched).
#[derive(Debug, Args)]
pub struct MergeDriverArgs {
    /// The common ancestor's version (git's %O).
    pub base: PathBuf,
    /// Our version; the result is written here (git's %A).
    pub ours: PathBuf,
    /// Their version (git's %B).
    pub theirs: PathBuf,
    /// Conflict-marker size (git's %L).
    #[arg(default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub marker_size: u16,
    /// The path of the file in the repository, for messages (git's %P).
    pub path: Option<String>,
    /// The conflict labels of the base, ours and theirs (git's %S %X %Y, git 2.44 and
    /// later), used when a version is not JSON and the file is merged line by line.
    #[arg(num_args = 0..=3, value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Merge common ancestors (criss-cross merges): settle every conflict on the base's
    /// value instead of marking it.
    #[arg(long)]
    pub ancestor: bool,
}

/// Approve this repository's runqlint.toml, so that `fix` and `stale` may run the programs
/// it names (`[fix] alive-cmd`, `[fix] openclaw-bin`).
///
/// Records the file's path and the SHA-256 of its contents in your trust store (outside the
/// repository); any edit to the file needs a new approval. Programs given on the command
/// line, in the environment or in your own config file need none.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// List every approved file, and whether it still matches its approval.
    #[arg(long, conflicts_with_all = ["revoke", "config"])]
    pub show: bool,
    /// Withdraw the approval of the file.
    #[arg(long)]
    pub revoke: bool,
    /// Approve (or revoke) this config file instead of runqlint.toml at the repository root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// A command-line error as the one line `main` prints after `runqlint: error: `: clap's
/// message without its usage block, with the `--help` to read (the command's own when one
/// was named). `args` are the arguments after the program name.
pub fn usage_error(e: &clap::Error, args: &[std::ffi::OsString]) -> String {
    let cli = Cli::command();
    let names: Vec<&str> = cli
        .get_subcommands()
        .map(|c| c.get_name())
        .filter(|n| *n != "help")
        .collect();
    let command = args
        .iter()
        .filter_map(|a| a.to_str())
        .find(|a| !a.starts_with('-'))
        .filter(|a| names.contains(a));
    let help = match command {
        Some(c) => format!("runqlint {c} --help"),
        None => "runqlint --help".to_string(),
    };
    let what = match e.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
            if command.is_none() =>
        {
            format!("no command given; the commands are {}", names.join(", "))
        }
        _ => {
            let text = e.to_string();
            let mut line = String::new();
            for part in text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:"))
                .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
            {
                let part = part.strip_prefix("error: ").unwrap_or(part);
                if !line.is_empty() {
                    line.push_str(if line.ends_with(':') { " " } else { "; " });
                }
                line.push_str(part);
            }
            line
        }
    };
    crate::text::escape(&format!("{what} (see `{help}`)"))
}

/// One item's timeline: every commit in which it appeared, changed or was removed, oldest
/// first, with the author, the status after, what changed, and the receipt of `fix` commits.
///
/// Follows the file through renames and copies as `git log --follow` does; authors as `git
/// log` shows them (mailmap). In a shallow clone, an item already there where the history is
/// cut is `present`, not `added`. Exit status: 0 shown, 1 no item with that id in the
/// history, 2 could not read the history.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The item's `id`.
    pub id: String,
    /// The queue file [default: the first configured path].
    pub path: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Show only the N most recent events (still oldest first).
    #[arg(long, short = 'n', value_name = "N")]
    pub max_count: Option<usize>,
    /// Only commits not reachable from REV (as `git log REV..HEAD`).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Read this config file instead of runqlint.toml at the repository root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Check every version of the file in history: each commit that changed it (reachable from
/// HEAD, following renames and copies) with the single-file rules, and against each parent with the
/// history rules. Each finding is reported once, at the commit that introduced it, located
/// in that commit's version.
///
/// Time-based rules judge each version at its commit's time (unless --now is given). In a
/// shallow clone, no finding is blamed on a commit whose parents were not fetched; a note
/// says where the history is cut. Exit status: 0 no error-severity finding, 1 at least one, 2 could not check.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The queue file [default: the first configured path].
    pub path: Option<PathBuf>,
    /// Only commits not reachable from REV (as `git log REV..HEAD`); their parents' findings
    /// count as already there.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub common: Common,
}

/// Print a shell completion script for runqlint.
///
/// bash: `runqlint completions bash > ~/.local/share/bash-completion/completions/runqlint`;
/// zsh: `runqlint completions zsh > "${fpath[1]}/_runqlint"`; fish:
/// `runqlint completions fish > ~/.config/fish/completions/runqlint.fish`; PowerShell:
/// `runqlint completions powershell | Out-String | Invoke-Expression` in `$PROFILE`;
/// elvish: `eval (runqlint completions elvish | slurp)` in `rc.elv`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
