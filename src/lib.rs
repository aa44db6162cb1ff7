//! runqlint: keeps a git-committed `run_queue.json` honest.
//!
//! The binary (`src/main.rs`) is a thin shell over this library; the library is public so
//! the fuzz targets and property tests can drive the same code paths. See ARCHITECTURE.md.

pub mod amend;
pub mod atomic;
pub mod attributes;
pub mod cli;
pub mod commands;
pub mod config;
pub mod document;
pub mod edit;
pub mod error;
pub mod failpoint;
pub mod fields;
pub mod git;
pub mod gitcli;
pub mod history;
pub mod itemdiff;
pub mod journal;
pub mod lint;
pub mod liveness;
pub mod merge;
pub mod output;
pub mod queue;
pub mod receipt;
pub mod repair;
pub mod rules;
pub mod scan;
pub mod schema;
pub mod text;
pub mod trust;
