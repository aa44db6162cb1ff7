//! The integration tests: one binary, one module per area. Every test drives the real
//! `runqlint` binary against real temporary git repositories, except `lint`, which gives
//! the rules' fixtures straight to `runqlint::lint::lint` (no git needed there), the
//! property tests of `props` and `positions`, which give it generated queues, and `npm` and
//! `action_install`, which package the binary and install it as users do (npm, the Action's
//! install step).

mod support;

#[cfg(unix)]
mod action_install;
mod check;
mod dist;
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
#[cfg(unix)]
mod npm;
mod openclaw;
mod positions;
mod props;
mod robust;
mod terminal;
mod trust;
