//! Distribution: the release plan (`scripts/release-plan`) and the release workflow built
//! from it, the archive names every installer relies on (binstall metadata, `sha256.sum`),
//! and the versions of the Rust crate, the `runqlint` wheel and the pre-commit shim.
//! `scripts/check-pypi.sh` (run by `.ci/run`) builds and installs the wheel itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::*;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_toml(rel: &str) -> toml::Table {
    let text = std::fs::read_to_string(manifest_dir().join(rel)).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `a.b.c` in a TOML table.
fn at<'a>(table: &'a toml::Table, path: &str) -> &'a toml::Value {
    let mut keys = path.split('.');
    let first = keys.next().unwrap();
    let mut v = table
        .get(first)
        .unwrap_or_else(|| panic!("no {first} (of {path})"));
    for key in keys {
        v = v.get(key).unwrap_or_else(|| panic!("no {key} (of {path})"));
    }
    v
}

fn str_at<'a>(table: &'a toml::Table, path: &str) -> &'a str {
    at(table, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn cargo_version() -> String {
    str_at(&read_toml("Cargo.toml"), "package.version").to_string()
}

/// The targets every release must build (issue 18).
const TARGETS: [&str; 5] = [
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-pc-windows-msvc",
];

/// `scripts/release-plan WHAT`, parsed.
fn plan(what: &str) -> Vec<Value> {
    let mut cmd = Command::new("sh");
    cmd.arg(manifest_dir().join("scripts/release-plan"))
        .arg(what);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    let v: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("release-plan {what}: not JSON ({e}): {}", run.stdout));
    v.as_array().unwrap().clone()
}

fn field<'a>(entry: &'a Value, name: &str) -> &'a str {
    entry[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {entry}"))
}

/// The archive a target's release holds: `runqlint-<target>.tar.gz`, `.zip` on Windows.
fn archive_name(target: &str) -> String {
    let ext = if target.contains("windows") {
        "zip"
    } else {
        "tar.gz"
    };
    format!("runqlint-{target}.{ext}")
}

#[test]
fn release_plan_builds_every_target_and_a_wheel_for_each() {
    let binaries = plan("binaries");
    let targets: BTreeSet<&str> = binaries.iter().map(|b| field(b, "target")).collect();
    assert_eq!(targets, TARGETS.into_iter().collect(), "{binaries:?}");
    assert_eq!(
        binaries.len(),
        TARGETS.len(),
        "a target twice: {binaries:?}"
    );
    for b in &binaries {
        let target = field(b, "target");
        assert_eq!(
            format!("runqlint-{target}.{}", field(b, "archive")),
            archive_name(target)
        );
        let runner = field(b, "runner");
        let os_runner = if target.contains("apple") {
            "macos-latest"
        } else if target.contains("windows") {
            "windows-latest"
        } else {
            "ubuntu-latest"
        };
        assert_eq!(runner, os_runner, "{b}");
        // Linux binaries are static (musl), built with zig as the linker.
        let build = field(b, "build");
        assert_eq!(build == "zigbuild", target.contains("linux-musl"), "{b}");
    }

    // A wheel for every target's OS and architecture; for Linux both a manylinux wheel
    // (what pip installs on glibc) and a musllinux one.
    let wheels = plan("wheels");
    for target in TARGETS {
        let arch = target.split('-').next().unwrap();
        let os = if target.contains("linux") {
            "linux"
        } else {
            target.split('-').nth(2).unwrap()
        };
        let of_target: Vec<&str> = wheels
            .iter()
            .filter(|w| {
                let t = field(w, "target");
                t.starts_with(&format!("{arch}-")) && t.contains(os)
            })
            .map(|w| field(w, "manylinux"))
            .collect();
        if os == "linux" {
            assert!(of_target.contains(&"2_17"), "{target}: {wheels:?}");
            assert!(of_target.contains(&"musllinux_1_2"), "{target}: {wheels:?}");
        } else {
            assert_eq!(of_target, [""], "{target}: {wheels:?}");
        }
    }

    let usage = run_cmd({
        let mut cmd = Command::new("sh");
        cmd.arg(manifest_dir().join("scripts/release-plan"));
        cmd
    });
    assert_eq!(usage.code, 2, "{usage:?}");
}

#[test]
fn release_workflow_takes_its_matrices_from_the_plan_and_publishes_the_archives() {
    let wf = std::fs::read_to_string(manifest_dir().join(".github/workflows/release.yml")).unwrap();
    for needle in [
        "tags: [\"v*\"]",
        "scripts/release-plan binaries",
        "scripts/release-plan wheels",
        "include: ${{ fromJSON(needs.plan.outputs.binaries) }}",
        "include: ${{ fromJSON(needs.plan.outputs.wheels) }}",
        "name=\"runqlint-$TARGET.$ARCHIVE\"",
        "README.md LICENSE-MIT LICENSE-APACHE",
        "sha256sum runqlint-* >sha256.sum",
        "actions/attest-build-provenance@",
        "PyO3/maturin-action@",
        "working-directory: dist/pypi",
        "pypa/gh-action-pypi-publish@",
        "gh release create",
    ] {
        assert!(wf.contains(needle), "{needle:?} not in release.yml");
    }
    // No target is named in the workflow: the plan is the one list.
    for target in TARGETS {
        assert!(!wf.contains(target), "{target} named in release.yml");
    }
    // The license files the archives carry exist.
    for file in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(manifest_dir().join(file).is_file(), "{file}");
    }
}

/// The `run:` scripts of release.yml's steps by name, read with PyYAML by the tools venv's
/// `python` (pre-commit depends on it).
fn workflow_steps(python: &Path) -> Value {
    let program = r#"
import json, sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
steps = [s for job in wf["jobs"].values() for s in job.get("steps", [])]
print(json.dumps({s["name"]: s["run"] for s in steps if "name" in s and "run" in s}))
"#;
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg(program)
        .arg(manifest_dir().join(".github/workflows/release.yml"));
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    serde_json::from_str(&run.stdout).unwrap()
}

/// The plan job's step, run as GitHub would in this checkout: for the tag of Cargo.toml's
/// version it outputs the version and the plan's matrices; any other tag fails the release.
#[test]
fn release_plan_step_outputs_the_matrices_and_refuses_a_tag_that_is_not_the_version() {
    let Some(python) = tool("python") else { return };
    let steps = workflow_steps(&python);
    let dir = tempfile::tempdir().unwrap();
    let plan_step = |tag: &str| {
        let outputs = dir.path().join(format!("output-{tag}"));
        let mut cmd = Command::new("bash");
        cmd.arg("-e")
            .arg("-c")
            .arg(steps["Targets and version"].as_str().unwrap())
            .current_dir(manifest_dir())
            .env("GITHUB_REF_NAME", tag)
            .env("GITHUB_OUTPUT", &outputs);
        let run = run_cmd(cmd);
        (run, std::fs::read_to_string(&outputs).unwrap_or_default())
    };
    let version = cargo_version();
    let (run, outputs) = plan_step(&format!("v{version}"));
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = outputs.lines().collect();
    assert_eq!(lines.len(), 3, "{outputs}");
    assert_eq!(lines[0], format!("version={version}"));
    let binaries: Value =
        serde_json::from_str(lines[1].strip_prefix("binaries=").unwrap()).unwrap();
    assert_eq!(binaries.as_array().unwrap(), &plan("binaries"));
    let wheels: Value = serde_json::from_str(lines[2].strip_prefix("wheels=").unwrap()).unwrap();
    assert_eq!(wheels.as_array().unwrap(), &plan("wheels"));

    let (run, outputs) = plan_step("v0.0.0-not-this");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .starts_with("::error::tag v0.0.0-not-this, Cargo.toml "),
        "{run:?}"
    );
    assert_eq!(outputs, "");
}

/// The Archive step of release.yml, run as GitHub would on Linux, on the binary under test
/// (named as if built for `target`): the archive holds the binary at its root with
/// README.md and the license files, and the release's `sha256.sum` line checks it.
#[test]
fn release_archive_step_packs_the_binary_at_the_root_and_sha256_sum_checks_it() {
    let Some(python) = tool("python") else { return };
    let Some(sha256sum) = tool("sha256sum") else {
        return;
    };
    let steps = workflow_steps(&python);

    let target = "x86_64-unknown-linux-musl";
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("workspace");
    let built = work.join("target").join(target).join("release");
    std::fs::create_dir_all(&built).unwrap();
    std::fs::copy(bin(), built.join("runqlint")).unwrap();
    for file in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
        std::fs::copy(manifest_dir().join(file), work.join(file)).unwrap();
    }
    let outputs = dir.path().join("github_output");
    let temp = dir.path().join("runner_temp");
    std::fs::create_dir_all(&temp).unwrap();
    let step = |name: &str, cwd: &Path| {
        let mut cmd = Command::new("bash");
        cmd.arg("-e")
            .arg("-c")
            .arg(steps[name].as_str().unwrap())
            .current_dir(cwd)
            .env("TARGET", target)
            .env("ARCHIVE", "tar.gz")
            .env(
                "BINARIES",
                serde_json::to_string(&plan("binaries")).unwrap(),
            )
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_WORKSPACE", &work)
            .env("RUNNER_TEMP", &temp);
        run_cmd(cmd)
    };
    let run = step("Archive", &work);
    assert_eq!(run.code, 0, "{run:?}");
    let name = archive_name(target);
    assert_eq!(
        std::fs::read_to_string(&outputs).unwrap(),
        format!("path=dist/{name}\n")
    );
    let archive = work.join("dist").join(&name);
    let list = run_cmd({
        let mut cmd = Command::new("tar");
        cmd.arg("-tzf").arg(&archive);
        cmd
    });
    assert_eq!(list.code, 0, "{list:?}");
    let mut entries: Vec<&str> = list.stdout.lines().collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "LICENSE-APACHE",
            "LICENSE-MIT",
            "README.md",
            "completions/",
            "completions/_runqlint",
            "completions/_runqlint.ps1",
            "completions/runqlint.bash",
            "completions/runqlint.elv",
            "completions/runqlint.fish",
            "runqlint"
        ]
    );
    // The binary inside is the one built, and runs.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let untar = run_cmd({
        let mut cmd = Command::new("tar");
        cmd.arg("-xzf").arg(&archive).arg("-C").arg(&out);
        cmd
    });
    assert_eq!(untar.code, 0, "{untar:?}");
    assert_eq!(
        std::fs::read(out.join("runqlint")).unwrap(),
        std::fs::read(bin()).unwrap()
    );
    // The completion scripts are the binary's own.
    let bash = run_cmd({
        let mut cmd = Command::new(bin());
        cmd.args(["completions", "bash"]);
        cmd
    });
    assert_eq!(
        std::fs::read_to_string(out.join("completions/runqlint.bash")).unwrap(),
        bash.stdout
    );
    let version = run_cmd(Command::new(out.join("runqlint")));
    assert_eq!(version.code, 2, "no command is a usage error: {version:?}");

    // The release job's sha256.sum over the archives of every target (the others stand in
    // as copies): one `sha256sum` line per archive, which `sha256sum -c` accepts, and which
    // refuses a changed archive.
    for t in TARGETS {
        if t != target {
            std::fs::copy(&archive, work.join("dist").join(archive_name(t))).unwrap();
        }
    }
    let run = step("sha256.sum", &work);
    assert_eq!(run.code, 0, "{run:?}");
    let sums = std::fs::read_to_string(work.join("dist/sha256.sum")).unwrap();
    let names: BTreeSet<&str> = sums
        .lines()
        .map(|l| {
            let (hash, file) = l.split_once("  ").unwrap();
            assert_eq!(hash.len(), 64, "{l}");
            assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{l}");
            file
        })
        .collect();
    let expected: Vec<String> = TARGETS.iter().map(|t| archive_name(t)).collect();
    assert_eq!(names, expected.iter().map(String::as_str).collect());
    let check = |dir: &Path| {
        let mut cmd = Command::new(&sha256sum);
        cmd.args(["-c", "sha256.sum"]).current_dir(dir);
        run_cmd(cmd)
    };
    let ok = check(&work.join("dist"));
    assert_eq!(ok.code, 0, "{ok:?}");
    std::fs::write(&archive, b"tampered").unwrap();
    let bad = check(&work.join("dist"));
    assert_ne!(bad.code, 0, "{bad:?}");
}

#[test]
fn binstall_metadata_resolves_the_release_archives() {
    let cargo = read_toml("Cargo.toml");
    let version = cargo_version();
    let meta = at(&cargo, "package.metadata.binstall");
    let get = |t: &str, key: &str| -> String {
        meta.get("overrides")
            .and_then(|o| o.get(t))
            .and_then(|o| o.get(key))
            .or_else(|| meta.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("binstall {key} for {t}"))
            .to_string()
    };
    for target in TARGETS {
        // cargo-binstall's templates, as it expands them.
        let windows = target.contains("windows");
        let expand = |template: String| {
            template
                .replace("{ repo }", "https://github.com/OWNER/runqlint")
                .replace("{ version }", &version)
                .replace("{ target }", target)
                .replace("{ bin }", "runqlint")
                .replace("{ binary-ext }", if windows { ".exe" } else { "" })
        };
        let url = expand(get(target, "pkg-url"));
        assert_eq!(
            url,
            format!(
                "https://github.com/OWNER/runqlint/releases/download/v{version}/{}",
                archive_name(target)
            )
        );
        assert!(!url.contains('{'), "{url}");
        let exe = expand(get(target, "bin-dir"));
        assert_eq!(exe, if windows { "runqlint.exe" } else { "runqlint" });
        assert_eq!(get(target, "pkg-fmt"), if windows { "zip" } else { "tgz" });
    }
}

#[test]
fn the_crate_the_wheel_and_the_pre_commit_shim_have_one_version() {
    let version = cargo_version();

    // The root pyproject.toml: the shim pre-commit installs, pinned to this version's wheel,
    // built without Rust.
    let shim = read_toml("pyproject.toml");
    assert_eq!(str_at(&shim, "project.name"), "runqlint-pre-commit");
    assert_eq!(str_at(&shim, "project.version"), version);
    let deps = at(&shim, "project.dependencies").as_array().unwrap();
    assert_eq!(
        deps,
        &[toml::Value::String(format!("runqlint=={version}"))],
        "the shim depends on exactly the runqlint wheel of Cargo.toml's version"
    );
    assert_eq!(
        str_at(&shim, "build-system.build-backend"),
        "hatchling.build"
    );
    let requires = at(&shim, "build-system.requires").as_array().unwrap();
    assert!(
        requires
            .iter()
            .all(|r| !r.as_str().unwrap().contains("maturin")),
        "{requires:?}"
    );
    assert!(shim.get("tool").and_then(|t| t.get("maturin")).is_none());

    // dist/pypi/pyproject.toml: maturin builds the binary of the root Cargo.toml, whose
    // version the wheel takes.
    let wheel = read_toml("dist/pypi/pyproject.toml");
    assert_eq!(str_at(&wheel, "project.name"), "runqlint");
    assert_eq!(str_at(&wheel, "build-system.build-backend"), "maturin");
    assert_eq!(str_at(&wheel, "tool.maturin.bindings"), "bin");
    let dynamic = at(&wheel, "project.dynamic").as_array().unwrap();
    assert!(dynamic.contains(&toml::Value::String("version".into())));
    assert!(wheel["project"].get("version").is_none());
    let manifest = manifest_dir()
        .join("dist/pypi")
        .join(str_at(&wheel, "tool.maturin.manifest-path"));
    assert_eq!(
        manifest.canonicalize().unwrap(),
        manifest_dir().join("Cargo.toml").canonicalize().unwrap()
    );
}
