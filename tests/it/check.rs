//! `runqlint check` on real repositories.
use crate::support::*;
