//! The machine's own programs for the distribution tests (`npm`, `action_install`): Node and
//! npm, curl, Python, found on `PATH`; a `PATH` with no `cargo` on it, so that what they
//! check works where only the packaged binary exists.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The binary the distribution tests package: `RUNQLINT_DIST_BINARY` when set (a release
/// build to check before it is published), else the one under test.
pub fn dist_binary() -> PathBuf {
    match std::env::var_os("RUNQLINT_DIST_BINARY") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(super::bin()),
    }
}

/// `name` on `PATH`, if it is there.
pub fn find_on_path(name: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Each of `names` on `PATH`, or `None` after one line on stderr saying that `test` is
/// skipped for lack of the first missing one. Under `CI=true` a missing program is a failure
/// instead: CI installs every program the tests need.
pub fn host_tools(test: &str, names: &[&str]) -> Option<Vec<PathBuf>> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut found = Vec::new();
    for name in names {
        match find_on_path(name, &path) {
            Some(p) => found.push(p),
            None => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "{test}: `{name}` is not on PATH (CI=true: every tool must be installed)"
                );
                // Straight to the stream: the harness would hide `eprintln!` of a passing test.
                let line = format!("runqlint tests: {test} skipped: `{name}` is not on PATH\n");
                let _ = std::io::stderr().write_all(line.as_bytes());
                return None;
            }
        }
    }
    Some(found)
}

/// A `PATH` without `cargo`: `links` (created, holding a link to each of `tools` under its
/// own name, so a tool installed beside cargo stays reachable), then every directory of this
/// process's `PATH` that holds no `cargo`.
pub fn path_without_cargo(links: &Path, tools: &[PathBuf]) -> OsString {
    std::fs::create_dir_all(links).unwrap();
    for tool in tools {
        let link = links.join(tool.file_name().unwrap());
        if !link.exists() {
            std::os::unix::fs::symlink(tool, &link).unwrap();
        }
    }
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(links.to_path_buf())
        .chain(std::env::split_paths(&inherited).filter(|dir| !dir.join("cargo").exists()));
    let path = std::env::join_paths(dirs).unwrap();
    assert_eq!(
        find_on_path("cargo", &path),
        None,
        "cargo is still on {path:?}"
    );
    path
}
