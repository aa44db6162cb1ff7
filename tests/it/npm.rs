//! The npm packages (`npm/`): the `runqlint` launcher and the platform packages that
//! `scripts/npm-package.sh` fills from a built binary. The binary is the one under test, or
//! `RUNQLINT_DIST_BINARY` (see `scripts/check-npm-action.sh`).
//!
//! The install tests pack the launcher and this machine's platform package with the real
//! `npm pack`, install the two tarballs with `npm i --ignore-scripts` into a fresh folder
//! (offline, with an empty cache: the other platforms' optional packages are skipped, no
//! registry is asked), and run them with no `cargo` on `PATH`. They need `node`, `npm` and
//! `npx` on `PATH`; without them they are skipped in one line, and fail under `CI=true`.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{dist_binary, host_tools, isolate, path_without_cargo, run_cmd, Run, NOW};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cargo.toml's `[package] version`.
fn cargo_version() -> String {
    let text = std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    let cargo: toml::Table = toml::from_str(&text).unwrap();
    cargo["package"]["version"].as_str().unwrap().to_string()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The release targets and the npm platform (`process.platform-process.arch`) of each.
const TARGETS: [(&str, &str); 5] = [
    ("aarch64-apple-darwin", "darwin-arm64"),
    ("x86_64-apple-darwin", "darwin-x64"),
    ("x86_64-unknown-linux-musl", "linux-x64"),
    ("aarch64-unknown-linux-musl", "linux-arm64"),
    ("x86_64-pc-windows-msvc", "win32-x64"),
];

/// This machine's release target, if there is one.
fn host_target() -> Option<&'static str> {
    let platform = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "linux-x64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "darwin-x64",
        ("macos", "aarch64") => "darwin-arm64",
        _ => return None,
    };
    TARGETS.iter().find(|t| t.1 == platform).map(|t| t.0)
}

/// `scripts/npm-package.sh TARGET BINARY OUT` run from `root` (the repository or a copy).
fn npm_package(root: &Path, target: &str, binary: &Path, out: &Path) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg(root.join("scripts/npm-package.sh"))
        .arg(target)
        .arg(binary)
        .arg(out);
    run_cmd(cmd)
}

#[test]
fn npm_packages_are_at_cargos_version_and_cover_every_target() {
    let version = cargo_version();
    let launcher = read_json(&manifest_dir().join("npm/runqlint/package.json"));
    assert_eq!(
        launcher["version"],
        version.as_str(),
        "npm/runqlint/package.json"
    );
    assert_eq!(launcher["bin"]["runqlint"], "bin/runqlint.js");
    // No install script of any kind: `npm i --ignore-scripts` must lose nothing.
    assert!(launcher.get("scripts").is_none(), "{launcher}");

    let optional = launcher["optionalDependencies"].as_object().unwrap();
    let mut names: Vec<&str> = optional.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected: Vec<String> = TARGETS
        .iter()
        .map(|(_, p)| format!("@runqlint/cli-{p}"))
        .collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for (name, pinned) in optional {
        assert_eq!(
            pinned,
            version.as_str(),
            "{name} is not pinned to {version}"
        );
    }

    let scratch = tempfile::tempdir().unwrap();
    let binary = dist_binary();
    for (target, platform) in TARGETS {
        let out = scratch.path().join(platform);
        let run = npm_package(&manifest_dir(), target, &binary, &out);
        assert_eq!(run.code, 0, "{target}: {run:?}");
        let manifest = read_json(&out.join("package.json"));
        let (os, cpu) = platform.split_once('-').unwrap();
        let exe = if os == "win32" {
            "runqlint.exe"
        } else {
            "runqlint"
        };
        assert_eq!(manifest["name"], format!("@runqlint/cli-{platform}"));
        assert_eq!(manifest["version"], version.as_str());
        assert_eq!(manifest["os"], serde_json::json!([os]));
        assert_eq!(manifest["cpu"], serde_json::json!([cpu]));
        assert_eq!(manifest["files"], serde_json::json!([exe]));
        // Static musl binaries: no `libc` field, so glibc and musl systems both take them.
        assert!(manifest.get("libc").is_none() && manifest.get("scripts").is_none());
        let copied = out.join(exe);
        assert_eq!(
            std::fs::read(&copied).unwrap(),
            std::fs::read(&binary).unwrap()
        );
        assert_eq!(
            copied.metadata().unwrap().permissions().mode() & 0o777,
            0o755
        );
        let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
        assert!(
            readme.contains(&format!("# @runqlint/cli-{platform}\n")) && readme.contains(target),
            "{readme}"
        );
        assert!(!readme.contains("@PLATFORM@") && !readme.contains("@TARGET@"));
    }

    // Refusals, each in one line: an unknown target, an existing output folder.
    let run = npm_package(
        &manifest_dir(),
        "riscv64gc-unknown-linux-gnu",
        &binary,
        &scratch.path().join("riscv"),
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run
        .stderr
        .contains("unknown target 'riscv64gc-unknown-linux-gnu'"));
    assert!(!scratch.path().join("riscv").exists());
    let run = npm_package(
        &manifest_dir(),
        "x86_64-unknown-linux-musl",
        &binary,
        &scratch.path().join("linux-x64"),
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("already exists"), "{run:?}");

    // A Cargo.toml bumped without the launcher: refused before a package is made.
    let copy = scratch.path().join("copy");
    std::fs::create_dir_all(copy.join("scripts")).unwrap();
    std::fs::create_dir_all(copy.join("npm/runqlint")).unwrap();
    std::fs::create_dir_all(copy.join("npm/platform")).unwrap();
    for file in [
        "scripts/npm-package.sh",
        "npm/runqlint/package.json",
        "npm/platform/package.json",
        "npm/platform/README.md",
    ] {
        std::fs::copy(manifest_dir().join(file), copy.join(file)).unwrap();
    }
    let cargo = std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    let bumped = cargo.replacen(
        &format!("version = \"{version}\""),
        "version = \"99.0.0\"",
        1,
    );
    assert_ne!(bumped, cargo);
    std::fs::write(copy.join("Cargo.toml"), bumped).unwrap();
    let out = scratch.path().join("skewed");
    let run = npm_package(&copy, "x86_64-unknown-linux-musl", &binary, &out);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(
        run.stderr.contains("is not at Cargo.toml's version 99.0.0"),
        "{run:?}"
    );
    assert!(!out.exists());
}

/// The launcher and this machine's platform package, packed, with what `npm pack` said.
struct Packed {
    dir: tempfile::TempDir,
    path: std::ffi::OsString,
    launcher: PathBuf,
    platform: PathBuf,
    platform_name: String,
    report: Value,
}

impl Packed {
    /// `None` (skipped in one line) without node, npm and npx, or on a machine with no
    /// release target.
    fn new(test: &str) -> Option<Packed> {
        let tools = host_tools(test, &["node", "npm", "npx"])?;
        let Some(target) = host_target() else {
            let line =
                format!("runqlint tests: {test} skipped: no release target for this machine\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("runqlint-npm")
            .tempdir()
            .unwrap();
        let path = path_without_cargo(&dir.path().join("bin"), &tools);
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let platform_dir = dir.path().join("platform");
        let run = npm_package(&manifest_dir(), target, &dist_binary(), &platform_dir);
        assert_eq!(run.code, 0, "{run:?}");
        let platform_name = read_json(&platform_dir.join("package.json"))["name"]
            .as_str()
            .unwrap()
            .to_string();

        let out = dir.path().join("tarballs");
        std::fs::create_dir_all(&out).unwrap();
        let mut packed = Packed {
            dir,
            path,
            launcher: PathBuf::new(),
            platform: PathBuf::new(),
            platform_name,
            report: Value::Null,
        };
        let mut cmd = packed.npm(&packed.dir.path().join("home"));
        cmd.args(["pack", "--json", "--pack-destination"])
            .arg(&out)
            .arg(manifest_dir().join("npm/runqlint"))
            .arg(&platform_dir);
        let run = run_cmd(cmd);
        assert_eq!(run.code, 0, "npm pack: {run:?}");
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        packed.launcher = out.join(report[0]["filename"].as_str().unwrap());
        packed.platform = out.join(report[1]["filename"].as_str().unwrap());
        packed.report = report;
        Some(packed)
    }

    /// A command run as a user would, in `cwd`: the isolated environment, no cargo on PATH,
    /// npm offline with its own empty cache.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd);
        isolate(&mut cmd, &self.dir.path().join("home"));
        for (key, _) in std::env::vars_os() {
            if key
                .to_string_lossy()
                .to_ascii_lowercase()
                .starts_with("npm_")
            {
                cmd.env_remove(key);
            }
        }
        cmd.env("PATH", &self.path)
            .env_remove("RUNQLINT_BINARY")
            .env("npm_config_cache", self.dir.path().join("npm-cache"))
            .env("npm_config_offline", "true")
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_audit", "false");
        cmd
    }

    fn npm(&self, cwd: &Path) -> Command {
        let mut cmd = self.command("npm", cwd);
        cmd.arg("--loglevel=error");
        cmd
    }

    /// A fresh folder holding the queue files of [`cases`].
    fn workdir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["run_queue.json", "bad.json"] {
            std::fs::write(dir.join(file), queue_file(file)).unwrap();
        }
        dir
    }

    /// A [`workdir`](Self::workdir) with `tarballs` installed by `npm i --ignore-scripts EXTRA`.
    fn project(&self, name: &str, tarballs: &[&Path], extra: &[&str]) -> PathBuf {
        let project = self.workdir(name);
        let mut cmd = self.npm(&project);
        cmd.args(["i", "--ignore-scripts"])
            .args(extra)
            .args(tarballs);
        let run = run_cmd(cmd);
        assert_eq!(run.code, 0, "npm i: {run:?}");
        project
    }
}

fn queue_file(name: &str) -> Vec<u8> {
    match name {
        "run_queue.json" => std::fs::read(manifest_dir().join("examples/run_queue.json")).unwrap(),
        // Cut off in the middle of the items array: a located finding.
        "bad.json" => b"{\"version\": 1, \"items\": [".to_vec(),
        _ => unreachable!(),
    }
}

/// The argument lists compared between the binary and the packaged command: the example
/// queue (errors: exit 1), the same with every rule off (exit 0), a truncated queue (a
/// located finding), a missing file (exit 2), --version.
fn cases() -> Vec<Vec<&'static str>> {
    vec![
        vec!["check", "run_queue.json", "--now", NOW],
        vec!["check", "run_queue.json", "--now", NOW, "--allow", "all"],
        vec!["check", "bad.json", "--format", "json"],
        vec!["check", "missing.json"],
        vec!["--version"],
    ]
}

/// Runs every case through `launch` and through the binary in `cwd`: same exit code, same
/// stdout and stderr.
fn assert_same_as_binary(packed: &Packed, cwd: &Path, launch: &dyn Fn(&[&str]) -> Command) {
    let mut codes = Vec::new();
    for args in cases() {
        let mut direct = packed.command(dist_binary(), cwd);
        direct.args(&args);
        let want = run_cmd(direct);
        let got = run_cmd(launch(&args));
        assert_eq!(
            (got.code, &got.stdout, &got.stderr),
            (want.code, &want.stdout, &want.stderr),
            "{args:?}"
        );
        codes.push(want.code);
    }
    // The cases cover each exit status.
    assert_eq!(codes, [1, 0, 1, 2, 0]);
}

#[test]
fn npm_install_without_scripts_runs_the_binary_through_npx() {
    let Some(packed) = Packed::new("npm_install_without_scripts_runs_the_binary_through_npx")
    else {
        return;
    };
    // What was packed: the launcher is a script and a manifest; the platform package is the
    // binary and a manifest.
    let files = |i: usize| -> Vec<String> {
        let mut f: Vec<String> = packed.report[i]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        f.sort();
        f
    };
    assert_eq!(files(0), ["README.md", "bin/runqlint.js", "package.json"]);
    assert_eq!(files(1), ["README.md", "package.json", "runqlint"]);
    assert!(packed.report[0]["size"].as_u64().unwrap() < 10_000);

    let project = packed.project("project", &[&packed.launcher, &packed.platform], &[]);
    assert!(project
        .join("node_modules")
        .join(&packed.platform_name)
        .join("runqlint")
        .is_file());
    assert_same_as_binary(&packed, &project, &|args| {
        let mut cmd = packed.command("npx", &project);
        cmd.arg("runqlint").args(args);
        cmd
    });

    // RUNQLINT_BINARY names the binary to run instead (here: the same binary elsewhere).
    let mut cmd = packed.command(project.join("node_modules/.bin/runqlint"), &project);
    cmd.arg("--version").env("RUNQLINT_BINARY", dist_binary());
    let run = run_cmd(cmd);
    assert_eq!(
        (run.code, run.stdout.trim()),
        (0, format!("runqlint {}", cargo_version()).as_str())
    );

    // A binary that cannot be started: one line, exit 2.
    let mut cmd = packed.command(project.join("node_modules/.bin/runqlint"), &project);
    cmd.arg("--version")
        .env("RUNQLINT_BINARY", project.join("no-such-binary"));
    let run = run_cmd(cmd);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.starts_with("runqlint: cannot run "), "{run:?}");
}

#[test]
fn npm_global_install_puts_runqlint_on_path() {
    let Some(packed) = Packed::new("npm_global_install_puts_runqlint_on_path") else {
        return;
    };
    let prefix = packed.dir.path().join("global");
    let mut cmd = packed.npm(packed.dir.path());
    cmd.args(["i", "-g", "--ignore-scripts", "--prefix"])
        .arg(&prefix)
        .arg(&packed.launcher)
        .arg(&packed.platform);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "npm i -g: {run:?}");
    let work = packed.workdir("work");
    let global = prefix.join("bin/runqlint");
    assert!(global.exists(), "no {}", global.display());
    assert_same_as_binary(&packed, &work, &|args| {
        let mut cmd = packed.command(&global, &work);
        cmd.args(args);
        cmd
    });
}

#[test]
fn npm_launcher_without_a_platform_package_says_so_in_one_line() {
    let Some(packed) = Packed::new("npm_launcher_without_a_platform_package_says_so_in_one_line")
    else {
        return;
    };
    // npm told to leave optional dependencies out: the launcher alone.
    let project = packed.project("bare", &[&packed.launcher], &["--omit=optional"]);
    assert!(!project
        .join("node_modules")
        .join(&packed.platform_name)
        .exists());
    let mut cmd = packed.command("npx", &project);
    cmd.args(["runqlint", "check", "run_queue.json"]);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(
        run.stderr.starts_with(&format!(
            "runqlint: {} (the binary for ",
            packed.platform_name
        )) && run
            .stderr
            .contains("is not installed; reinstall runqlint without --omit=optional"),
        "{run:?}"
    );

    // A platform with no package (Node's process.arch made s390x before the launcher loads;
    // nothing else differs): one line naming the platform, the platforms there are, and the
    // other ways to install.
    let preload = packed.dir.path().join("s390x.js");
    std::fs::write(
        &preload,
        "Object.defineProperty(process, 'arch', { value: 's390x' });\n",
    )
    .unwrap();
    let mut cmd = packed.command("node", &project);
    cmd.arg("--require")
        .arg(&preload)
        .arg(project.join("node_modules/runqlint/bin/runqlint.js"))
        .arg("--version");
    let run = run_cmd(cmd);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    assert!(
        run.stderr.starts_with(&format!(
            "runqlint: the npm package has no binary for {os}-s390x (only darwin-arm64, darwin-x64, linux-arm64, linux-x64, win32-x64); install runqlint with pipx or cargo install --locked runqlint"
        )),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Signals

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let task = PathBuf::from(format!("/proc/{pid}/task"));
    if task.is_dir() {
        let mut found = Vec::new();
        for thread in std::fs::read_dir(&task).into_iter().flatten().flatten() {
            if let Ok(list) = std::fs::read_to_string(thread.path().join("children")) {
                found.extend(list.split_whitespace().map(|p| p.parse::<u32>().unwrap()));
            }
        }
        return found;
    }
    let out = Command::new("pgrep")
        .arg("-P")
        .arg(pid.to_string())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

fn alive(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on a process this test started.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, sig) }, 0);
}

/// Kills the binary if a test fails while it is still blocked.
struct Reap(u32);
impl Drop for Reap {
    fn drop(&mut self) {
        if alive(self.0) {
            signal(self.0, libc::SIGKILL);
        }
    }
}

fn wait_for(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{what} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The launcher started on `merge-driver BASE OURS THEIRS` with BASE a FIFO nobody writes:
/// runqlint never reads stdin, and the merge driver opens its three inputs with plain
/// reads, so the binary sits blocked in open(2) until a signal ends it. Returns the
/// launcher and the binary's pid.
fn blocked_launcher(packed: &Packed, project: &Path) -> (Child, u32) {
    let fifo = project.join("base.fifo");
    if !fifo.exists() {
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }
    let mut cmd = packed.command(project.join("node_modules/.bin/runqlint"), project);
    cmd.args([
        "merge-driver",
        "base.fifo",
        "run_queue.json",
        "run_queue.json",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let mut launcher = cmd.spawn().unwrap();
    let start = Instant::now();
    let binary = loop {
        if let Some(&pid) = children(launcher.id()).first() {
            break pid;
        }
        if let Some(status) = launcher.try_wait().unwrap() {
            panic!("the launcher exited before starting the binary: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no binary started"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    (launcher, binary)
}

#[test]
fn npm_launcher_forwards_signals_and_dies_of_the_binarys_signal() {
    let Some(packed) = Packed::new("npm_launcher_forwards_signals_and_dies_of_the_binarys_signal")
    else {
        return;
    };
    let project = packed.project("signals", &[&packed.launcher, &packed.platform], &[]);

    // A signal sent to the launcher alone reaches the binary, which dies of it (it was
    // blocked: nothing else could end it); the launcher then dies of the same signal.
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let (mut launcher, binary) = blocked_launcher(&packed, &project);
        let _reap = Reap(binary);
        std::thread::sleep(Duration::from_millis(200));
        assert!(alive(binary));
        signal(launcher.id(), sig);
        let status = wait_for(&mut launcher, "the launcher");
        assert_eq!(status.signal(), Some(sig), "signal {sig}: {status}");
        assert!(!alive(binary), "signal {sig} did not reach the binary");
    }

    // The binary killed on its own: the launcher, sent nothing, dies of the same signal.
    let (mut launcher, binary) = blocked_launcher(&packed, &project);
    let _reap = Reap(binary);
    signal(binary, libc::SIGKILL);
    let status = wait_for(&mut launcher, "the launcher");
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
}
