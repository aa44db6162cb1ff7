//! The integration tests: one binary, one module per area. Every test drives the real
//! `runqlint` binary against real temporary git repositories, except `lint`, which gives
//! the rules' fixtures straight to `runqlint::lint::lint` (no git needed there).

mod support;

mod check;
mod fidelity;
mod fidelity_fix;
mod fix;
mod gates;
mod history;
mod hostile;
mod house;
mod lint;
mod merge;
mod messages;
mod openclaw;
mod props;
mod robust;
mod terminal;
mod trust;
