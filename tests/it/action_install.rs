//! The Action's install step (action.yml's "Install runqlint", which runs
//! `action/install.sh`), run as the runner runs it: a release folder built from the binary
//! under test (`runqlint-TARGET.tar.gz` and its `sha256.sum`, as the release workflow
//! publishes them) served by Python's `http.server` on 127.0.0.1, and a copy of the Action
//! with the checksums file a release commits (`action/checksums/VERSION.sum`). No `cargo`
//! on `PATH`. Needs bash, curl, tar, python3 and sha256sum or shasum; without them the tests
//! are skipped in one line, and fail under `CI=true`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::gates::action_step_script;
use crate::support::{
    dist_binary, find_on_path, host_tools, isolate, path_without_cargo, run_cmd, tool, Run,
};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `RUNNER_OS`, `RUNNER_ARCH` and the release target of this machine.
fn runner() -> Option<(&'static str, &'static str, &'static str)> {
    Some(match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => ("Linux", "X64", "x86_64-unknown-linux-musl"),
        ("linux", "aarch64") => ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
        ("macos", "x86_64") => ("macOS", "X64", "x86_64-apple-darwin"),
        ("macos", "aarch64") => ("macOS", "ARM64", "aarch64-apple-darwin"),
        _ => return None,
    })
}

/// `python3 -m http.server` on 127.0.0.1 (a free port), serving a folder; stopped on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(python: &Path, dir: &Path) -> Server {
        let mut child = Command::new(python)
            .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("http.server said: {line:?}"));
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A release folder on a local server and a copy of the Action that has its checksums.
struct Release {
    dir: tempfile::TempDir,
    server: Server,
    path: std::ffi::OsString,
    sha: PathBuf,
    version: String,
    runner_os: &'static str,
    runner_arch: &'static str,
    target: &'static str,
    /// The tools' Python, which reads action.yml (PyYAML).
    python: PathBuf,
}

impl Release {
    fn new(test: &str) -> Option<Release> {
        let tools = host_tools(test, &["bash", "curl", "tar", "python3"])?;
        let python = tool("python")?;
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let sha = match find_on_path("shasum", &inherited) {
            Some(shasum) => find_on_path("sha256sum", &inherited).unwrap_or(shasum),
            None => host_tools(test, &["sha256sum"])?.pop().unwrap(),
        };
        let Some((runner_os, runner_arch, target)) = runner() else {
            let line =
                format!("runqlint tests: {test} skipped: no release target for this machine\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("runqlint-action")
            .tempdir()
            .unwrap();
        let path = path_without_cargo(&dir.path().join("bin"), &tools);
        let version = String::from_utf8(
            Command::new(dist_binary())
                .arg("--version")
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim()
        .strip_prefix("runqlint ")
        .unwrap()
        .to_string();

        // The release, as the release workflow publishes it under the tag.
        let tag = dir.path().join("release").join(format!("v{version}"));
        std::fs::create_dir_all(&tag).unwrap();
        let archive = format!("runqlint-{target}.tar.gz");
        let release = Release {
            server: Server::start(&tools[3], &dir.path().join("release")),
            dir,
            path,
            sha,
            version,
            runner_os,
            runner_arch,
            target,
            python,
        };
        release.publish(&std::fs::read(dist_binary()).unwrap());
        let sums = release.sha256(&tag.join(&archive));
        std::fs::write(tag.join("sha256.sum"), &sums).unwrap();

        // The Action at a commit that has this release's checksums.
        let action = release.action();
        std::fs::create_dir_all(action.join("action/checksums")).unwrap();
        for file in ["action.yml", "Cargo.toml", "action/install.sh"] {
            std::fs::copy(manifest_dir().join(file), action.join(file)).unwrap();
        }
        std::fs::write(
            action
                .join("action/checksums")
                .join(format!("{}.sum", release.version)),
            sums,
        )
        .unwrap();
        Some(release)
    }

    fn action(&self) -> PathBuf {
        self.dir.path().join("action-copy")
    }

    fn tag_dir(&self) -> PathBuf {
        self.dir
            .path()
            .join("release")
            .join(format!("v{}", self.version))
    }

    fn archive(&self) -> PathBuf {
        self.tag_dir()
            .join(format!("runqlint-{}.tar.gz", self.target))
    }

    /// Writes the served archive: `binary` as `runqlint` at its root.
    fn publish(&self, binary: &[u8]) {
        let staging = self.dir.path().join("staging");
        std::fs::create_dir_all(&staging).unwrap();
        std::fs::write(staging.join("runqlint"), binary).unwrap();
        let mut cmd = Command::new("tar");
        cmd.arg("-czf")
            .arg(self.archive())
            .arg("-C")
            .arg(&staging)
            .arg("runqlint");
        let run = run_cmd(cmd);
        assert_eq!(run.code, 0, "{run:?}");
    }

    /// The `sha256.sum` line of `file`: "<sha256>  <name>".
    fn sha256(&self, file: &Path) -> String {
        let mut cmd = Command::new(&self.sha);
        if self.sha.ends_with("shasum") {
            cmd.args(["-a", "256"]);
        }
        cmd.arg(file.file_name().unwrap())
            .current_dir(file.parent().unwrap());
        let run = run_cmd(cmd);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.len() > 66, "{run:?}");
        run.stdout
    }

    /// The install step, run by bash as the runner runs it, with the step's env: `inputs`
    /// (by env name; unset inputs are empty, as GitHub passes them) and the runner's own
    /// variables, `RUNNER_OS` and `RUNNER_ARCH` from `runner` unless given there.
    fn install(&self, name: &str, inputs: &[(&str, &str)]) -> (Run, PathBuf) {
        let (script, env) = action_step_script(&self.python, "Install runqlint");
        let mut names = env.clone();
        names.sort();
        assert_eq!(
            names,
            [
                "RUNQLINT_ACTION_PATH",
                "RUNQLINT_ACTION_REPOSITORY",
                "RUNQLINT_DOWNLOAD_BASE",
                "RUNQLINT_ROOT",
                "RUNQLINT_VERSION"
            ]
        );
        let root = self.dir.path().join(name).join("runqlint");
        let work = self.dir.path().join(name).join("work");
        let temp = self.dir.path().join(name).join("runner-temp");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&temp).unwrap();
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();

        let mut cmd = Command::new("bash");
        cmd.arg("-e").arg("-c").arg(&script).current_dir(&work);
        isolate(&mut cmd, &home);
        let base = format!("http://127.0.0.1:{}", self.server.port);
        let action = self.action();
        let root_text = root.to_str().unwrap().to_string();
        let defaults = [
            ("RUNQLINT_VERSION", ""),
            ("RUNQLINT_DOWNLOAD_BASE", base.as_str()),
            ("RUNQLINT_ACTION_PATH", action.to_str().unwrap()),
            ("RUNQLINT_ACTION_REPOSITORY", "OWNER/runqlint"),
            ("RUNQLINT_ROOT", root_text.as_str()),
            ("RUNNER_OS", self.runner_os),
            ("RUNNER_ARCH", self.runner_arch),
        ];
        for (key, value) in defaults {
            let value = inputs
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(value, |(_, v)| v);
            cmd.env(key, value);
        }
        for (key, _) in inputs {
            assert!(defaults.iter().any(|(k, _)| k == key), "no env {key}");
        }
        cmd.env("PATH", &self.path)
            .env("RUNNER_TEMP", &temp)
            .env(
                "GITHUB_PATH",
                self.dir.path().join(name).join("github_path"),
            )
            .env_remove("GITHUB_ACTIONS");
        (run_cmd(cmd), root)
    }

    /// Asserts a refusal: exit 1, one line on stderr, nothing installed, no PATH entry, no
    /// download left behind. Returns the line.
    fn assert_refused(&self, name: &str, run: &Run, root: &Path) -> String {
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert!(!root.exists(), "{} was created: {run:?}", root.display());
        assert!(!self.dir.path().join(name).join("github_path").exists());
        let temp = self.dir.path().join(name).join("runner-temp");
        assert_eq!(
            std::fs::read_dir(temp).unwrap().count(),
            0,
            "download left behind"
        );
        run.stderr.trim_end().to_string()
    }
}

#[test]
fn action_installs_the_release_binary_verified_against_its_checksums() {
    let Some(release) =
        Release::new("action_installs_the_release_binary_verified_against_its_checksums")
    else {
        return;
    };
    let v = release.version.clone();
    // The default version (the Action's own, from its Cargo.toml), then the input as a tag.
    let tagged = format!("v{v}");
    for (name, inputs) in [
        ("default", vec![]),
        ("input", vec![("RUNQLINT_VERSION", tagged.as_str())]),
    ] {
        let (run, root) = release.install(name, &inputs);
        assert_eq!(run.code, 0, "{name}: {run:?}");
        assert_eq!(
            run.stdout,
            format!(
                "runqlint: installed runqlint {v} ({}) in {}, verified against action/checksums/{v}.sum\n",
                release.target,
                root.join("bin").display()
            )
        );
        let installed = root.join("bin/runqlint");
        assert_eq!(
            std::fs::read(&installed).unwrap(),
            std::fs::read(dist_binary()).unwrap()
        );
        let github_path =
            std::fs::read_to_string(release.dir.path().join(name).join("github_path")).unwrap();
        assert_eq!(github_path, format!("{}\n", root.join("bin").display()));
        // What the next step runs: runqlint on PATH.
        let mut cmd = Command::new("runqlint");
        cmd.arg("--version").env("PATH", github_path.trim_end());
        let run = run_cmd(cmd);
        assert_eq!((run.code, run.stdout), (0, format!("runqlint {v}\n")));
    }
}

#[test]
fn action_install_refuses_in_one_line_and_installs_nothing() {
    let Some(release) = Release::new("action_install_refuses_in_one_line_and_installs_nothing")
    else {
        return;
    };
    let v = release.version.clone();
    let archive = format!("runqlint-{}.tar.gz", release.target);

    // A tampered archive: the served binary has one byte more than the one released.
    let mut binary = std::fs::read(dist_binary()).unwrap();
    binary.push(0);
    release.publish(&binary);
    let tampered = release.sha256(&release.archive());
    let (run, root) = release.install("tampered", &[]);
    let line = release.assert_refused("tampered", &run, &root);
    let actual = tampered.split_whitespace().next().unwrap();
    assert!(
        line.starts_with(&format!(
            "runqlint: {archive} from http://127.0.0.1:{}/v{v}/{archive} does not match action/checksums/{v}.sum (sha256 {actual}, expected ",
            release.server.port
        )) && line.ends_with("); refusing to install"),
        "{line}"
    );

    // Even with the release's own sha256.sum changed to match: the Action trusts only the
    // checksums committed with it.
    std::fs::write(release.tag_dir().join("sha256.sum"), &tampered).unwrap();
    let (run, root) = release.install("tampered-sums", &[]);
    let line = release.assert_refused("tampered-sums", &run, &root);
    assert!(line.contains("does not match"), "{line}");

    // The runner's other architecture: the checksums list no archive for it.
    let other = if release.runner_arch == "X64" {
        "ARM64"
    } else {
        "X64"
    };
    let (run, root) = release.install("no-entry", &[("RUNNER_ARCH", other)]);
    let line = release.assert_refused("no-entry", &run, &root);
    assert!(
        line.starts_with(&format!(
            "runqlint: action/checksums/{v}.sum has no entry for runqlint-"
        )) && line.ends_with(".tar.gz; refusing to install"),
        "{line}"
    );

    // A version this Action has no checksums for.
    let (run, root) = release.install("unknown-version", &[("RUNQLINT_VERSION", "0.0.1")]);
    let line = release.assert_refused("unknown-version", &run, &root);
    assert_eq!(
        line,
        "runqlint: this Action has no checksums for runqlint 0.0.1 (action/checksums/0.0.1.sum); use a version it has, or a newer Action"
    );

    // No release binary for the platform: a build from source, here without cargo.
    let (run, root) = release.install("no-binary", &[("RUNNER_OS", "FreeBSD")]);
    let line = release.assert_refused("no-binary", &run, &root);
    assert_eq!(
        line,
        format!("runqlint: no release binary for FreeBSD/{}, and there is no cargo to build runqlint {v} from source", release.runner_arch)
    );
    let (run, root) = release.install(
        "no-binary-other-version",
        &[("RUNNER_OS", "FreeBSD"), ("RUNQLINT_VERSION", "0.0.1")],
    );
    let line = release.assert_refused("no-binary-other-version", &run, &root);
    assert!(
        line.ends_with(&format!(
            "and this Action's source is runqlint {v}, not 0.0.1"
        )),
        "{line}"
    );

    // Inputs are data: a version that is not one, plain http off this machine.
    let (run, root) = release.install("hostile", &[("RUNQLINT_VERSION", "1.0$(touch pwned)")]);
    let line = release.assert_refused("hostile", &run, &root);
    assert_eq!(
        line,
        "runqlint: the version input is not a release version (like 0.1.0)"
    );
    assert!(!release.dir.path().join("hostile/work/pwned").exists());
    let (run, root) = release.install(
        "plain-http",
        &[("RUNQLINT_DOWNLOAD_BASE", "http://example.com/releases")],
    );
    let line = release.assert_refused("plain-http", &run, &root);
    assert_eq!(
        line,
        "runqlint: download-base must be an https:// URL (or http://127.0.0.1 for a local mirror)"
    );
}
