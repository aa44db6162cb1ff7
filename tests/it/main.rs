//! The integration tests: one binary, one module per area. Every test drives the real
//! `runqlint` binary against real temporary git repositories.

mod support;

mod check;
mod fix;
mod gates;
mod history;
mod hostile;
mod props;
mod robust;
