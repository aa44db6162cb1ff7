//! runqlint: keeps a git-committed `run_queue.json` honest.
//!
//! The binary (`src/main.rs`) is a thin shell over this library. A module is private to the
//! crate unless the binary (`cli`, `commands`, `output`, `text`), the tests, the fuzz targets
//! (`fuzz/`) or the benchmarks drive it: the check (`lint`, `scan`, `schema`, `rules`,
//! `config`, `document`, `queue`), `fix`'s pure parts (`repair`, `edit`, `receipt`,
//! `atomic`), and the trust boundary whose doctests show from outside the crate that an
//! unapproved program cannot reach a provider (`trust`, `liveness`, `error`).
//! See ARCHITECTURE.md.

mod amend;
pub mod atomic;
mod attributes;
pub mod cli;
pub mod commands;
pub mod config;
pub mod document;
pub mod edit;
pub mod error;
mod failpoint;
mod fields;
mod git;
mod gitcli;
mod history;
mod itemdiff;
mod journal;
pub mod lint;
pub mod liveness;
mod merge;
pub mod output;
pub mod queue;
pub mod receipt;
pub mod repair;
pub mod rules;
pub mod scan;
pub mod schema;
pub mod text;
pub mod trust;
