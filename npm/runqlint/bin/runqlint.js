#!/usr/bin/env node
// The `runqlint` command of the npm package: runs the native binary of the platform package
// npm installed beside it (one of the optionalDependencies, picked by npm from their `os` and
// `cpu` fields; nothing runs at install time). Arguments, stdin/stdout/stderr and the exit
// status are the binary's; SIGINT, SIGTERM and SIGHUP sent to this process are passed on to
// it, and when the binary dies of a signal this process dies of the same signal.
//
// RUNQLINT_BINARY, when set, names the binary to run instead (the environment is trusted).
"use strict";

const { spawn } = require("child_process");
const os = require("os");

const PACKAGE = require("../package.json");

function fail(line) {
  process.stderr.write(line + "\n");
  process.exit(2);
}

/** The binary to run, or one line on stderr and exit 2. */
function binary() {
  const override = process.env.RUNQLINT_BINARY;
  if (override) {
    return override;
  }
  const platform = process.platform + "-" + process.arch;
  const name = "@runqlint/cli-" + platform;
  const known = Object.keys(PACKAGE.optionalDependencies || {});
  if (known.indexOf(name) < 0) {
    const have = known.map((n) => n.replace("@runqlint/cli-", "")).join(", ");
    fail(
      "runqlint: the npm package has no binary for " + platform + " (only " + have + "); " +
        "install runqlint with pipx or cargo install --locked runqlint, " +
        "or set RUNQLINT_BINARY to a runqlint binary",
    );
  }
  const exe = process.platform === "win32" ? "runqlint.exe" : "runqlint";
  try {
    return require.resolve(name + "/" + exe);
  } catch (_) {
    fail(
      "runqlint: " + name + " (the binary for " + platform + ") is not installed; " +
        "reinstall runqlint without --omit=optional or --no-optional, " +
        "or set RUNQLINT_BINARY to a runqlint binary",
    );
  }
}

function main() {
  const path = binary();
  let child = null;

  // Installed before the spawn, run by the event loop after it: `child` is set by then.
  // On Windows a console's Ctrl-C/Ctrl-Break reaches the binary itself (it shares the
  // console); this process only has to stay alive until the binary exits.
  const forwarded =
    process.platform === "win32" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM", "SIGHUP"];
  const relays = forwarded.map((signal) => {
    const relay = () => {
      if (child !== null && process.platform !== "win32") {
        child.kill(signal);
      }
    };
    process.on(signal, relay);
    return [signal, relay];
  });

  child = spawn(path, process.argv.slice(2), { stdio: "inherit", windowsHide: true });

  child.on("error", (err) => {
    fail("runqlint: cannot run " + path + ": " + err.message);
  });

  child.on("exit", (code, signal) => {
    for (const [name, relay] of relays) {
      process.removeListener(name, relay);
    }
    if (signal) {
      // The default action of most signals ends this process here, as it ended the binary.
      process.kill(process.pid, signal);
      // Still running: Node ignores or handles this one itself (SIGPIPE, SIGUSR1). Exit as
      // a shell reports a death by signal.
      process.exit(128 + (os.constants.signals[signal] || 0));
    }
    process.exit(code);
  });
}

main();
