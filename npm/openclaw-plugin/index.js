// OpenClaw plugin for runqlint: keeps each configured run_queue.json true to OpenClaw's task
// ledger, without a model call.
//
// - gateway_start: every queue is reconciled: `report` mode logs the stale items
//   (`runqlint stale --alive openclaw`), `fix` mode runs `runqlint fix --alive openclaw`,
//   which commits the repair with its receipt.
// - subagent_ended: only the item whose run.childSessionKey is the event's targetSessionKey
//   is looked at, whatever its age (`runqlint fix --session KEY`), with the event's outcome
//   and end time for when the ledger has not recorded the end yet (`--ended`, `--ended-at`,
//   `--ended-error`). `report` mode runs the same with `--dry-run` and logs it.
// - heartbeat_prompt_contribution: one line, "run queue: N running, M stale", from a cache
//   refreshed in the background, so a heartbeat never waits on git.
//
// runqlint runs without a shell, with arguments, a timeout and its own process; the queue
// repository names no program here (only this plugin's configuration does, which lives in
// the user's OpenClaw config). Runs on one queue are serialized. Every failure is logged
// with its reason and nothing is thrown out of a handler; a queue with uncommitted edits
// is refused by runqlint, logged, and tried again at the next event.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_CACHE_MS = 60_000;
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Work started by the handlers and not finished yet. */
const pending = new Set();

function track(promise) {
  pending.add(promise);
  promise.finally(() => pending.delete(promise)).catch(() => {});
  return promise;
}

/** Settles once every runqlint run the handlers started has finished (tests, shutdown). */
export async function settled() {
  while (pending.size) await Promise.allSettled([...pending]);
}

/** One line of at most `max` characters, control characters replaced. */
function oneLine(text, max = 300) {
  const line = String(text)
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, " ")
    .trim();
  return line.length > max ? line.slice(0, max) + "…" : line;
}

/** The last meaningful line runqlint wrote on stderr. */
function reasonOf(stderr, fallback) {
  const lines = String(stderr || "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return oneLine(lines.length ? lines[lines.length - 1] : fallback);
}

/**
 * How to run runqlint: the configured `binary`, else the runqlint npm package's launcher
 * (run with this Node, so no shell or `.cmd` shim is involved), else `runqlint` on PATH.
 */
export function resolveRunqlint(config, resolve = require.resolve) {
  if (typeof config.binary === "string" && config.binary) {
    return { file: config.binary, prefix: [], via: "the configured binary" };
  }
  try {
    const manifest = resolve("runqlint/package.json");
    const pkg = JSON.parse(readFileSync(manifest, "utf8"));
    const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin && pkg.bin.runqlint;
    if (typeof bin === "string" && bin) {
      return {
        file: process.execPath,
        prefix: [path.join(path.dirname(manifest), bin)],
        via: "the runqlint npm package",
      };
    }
  } catch {
    // Not installed beside the plugin: PATH next.
  }
  return { file: "runqlint", prefix: [], via: "runqlint on PATH" };
}

/** The plugin's configuration with its defaults; anything malformed is a reason. */
export function settings(raw) {
  const config = raw && typeof raw === "object" ? raw : {};
  const queues = Array.isArray(config.queues)
    ? config.queues.filter((q) => typeof q === "string" && q.trim())
    : [];
  return {
    queues: queues.map((q) => path.resolve(q)),
    mode: config.mode === "fix" ? "fix" : "report",
    staleAfter: typeof config.staleAfter === "string" ? config.staleAfter : undefined,
    mark: config.mark === "stale" || config.mark === "failed" ? config.mark : undefined,
    openclawBin: typeof config.openclawBin === "string" ? config.openclawBin : undefined,
    timeoutMs: Number.isInteger(config.timeoutMs) ? config.timeoutMs : DEFAULT_TIMEOUT_MS,
    cacheMs: Number.isInteger(config.heartbeatCacheMs) ? config.heartbeatCacheMs : DEFAULT_CACHE_MS,
    runqlint: resolveRunqlint(config),
  };
}

/** Runs runqlint with `args` (no shell); resolves to {code, stdout, stderr, error}. */
function runqlint(s, cwd, args) {
  return new Promise((resolve) => {
    let child;
    try {
      child = execFile(
        s.runqlint.file,
        [...s.runqlint.prefix, ...args],
        {
          cwd,
          timeout: s.timeoutMs,
          killSignal: "SIGKILL",
          maxBuffer: MAX_OUTPUT,
          windowsHide: true,
          env: { ...process.env, NO_COLOR: "1" },
        },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== "number") {
            const why = error.killed
              ? `did not finish within ${s.timeoutMs} ms`
              : `cannot run ${s.runqlint.file} (${s.runqlint.via}): ${error.message}`;
            resolve({ code: null, stdout, stderr, error: why });
          } else {
            resolve({ code: error ? error.code : 0, stdout, stderr });
          }
        },
      );
    } catch (e) {
      resolve({ code: null, stdout: "", stderr: "", error: `cannot run ${s.runqlint.file}: ${e.message}` });
      return;
    }
    child.stdin?.end();
  });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Flags every runqlint run of this plugin shares. */
function common(s) {
  const flags = [];
  if (s.staleAfter) flags.push("--stale-after", s.staleAfter);
  return flags;
}

function aliveFlags(s) {
  const flags = ["--alive", "openclaw"];
  if (s.openclawBin) flags.push("--openclaw-bin", s.openclawBin);
  return flags;
}

/** The reason a run gave no answer, or undefined when it did. */
function failure(r) {
  if (r.error) return r.error;
  if (r.code !== 0) return reasonOf(r.stderr, `runqlint exited ${r.code}`);
  return undefined;
}

export function createHandlers(api) {
  const log = api.logger;
  const s = settings(api.pluginConfig);
  const chains = new Map();
  let cache = { at: -Infinity, line: undefined, refreshing: undefined };

  /** Runs `task` after every earlier task on `queue`; never rejects. */
  function serialized(queue, task) {
    const previous = chains.get(queue) || Promise.resolve();
    const next = previous.then(task).catch((e) => {
      log.error(`runqlint: ${queue}: ${oneLine(e && e.message ? e.message : e)}`);
    });
    chains.set(queue, next);
    return track(next);
  }

  function logFix(queue, r, label) {
    const why = failure(r);
    if (why) {
      const retry = /uncommitted changes/.test(why) ? " (left alone; tried again at the next event)" : "";
      log.warn(`runqlint: ${label} ${queue}: ${why}${retry}`);
      return undefined;
    }
    const report = parseJson(r.stdout);
    if (!report) {
      log.warn(`runqlint: ${label} ${queue}: its answer is not JSON`);
      return undefined;
    }
    const reconciled = (report.reconciled || []).map((x) => `${oneLine(x.id, 80)} → ${x.status}`);
    const marked = (report.repaired || []).map((id) => oneLine(id, 80));
    const changed = reconciled.length + marked.length;
    const what = report.dryRun ? "would change" : "changed";
    const parts = [];
    if (reconciled.length) parts.push(`reconciled ${reconciled.join(", ")}`);
    if (marked.length) parts.push(`marked ${marked.join(", ")}`);
    if ((report.unknown || []).length) parts.push(`left (cannot tell) ${report.unknown.map((i) => oneLine(i, 80)).join(", ")}`);
    if (report.commit) parts.push(`commit ${oneLine(report.commit, 64)}`);
    log.info(`runqlint: ${label} ${queue}: ${changed ? what + " " + changed + " item(s): " : "nothing to change"}${parts.length ? parts.join("; ") : ""}`);
    return report;
  }

  async function reconcile(queue) {
    const cwd = path.dirname(queue);
    if (s.mode === "fix") {
      const args = ["fix", queue, ...aliveFlags(s), ...common(s), "--format", "json"];
      if (s.mark) args.push("--mark", s.mark);
      logFix(queue, await runqlint(s, cwd, args), "fix");
      return;
    }
    const r = await runqlint(s, cwd, ["stale", queue, ...aliveFlags(s), ...common(s), "--format", "json"]);
    const why = failure(r);
    const report = why ? undefined : parseJson(r.stdout);
    if (!report) {
      log.warn(`runqlint: stale ${queue}: ${why || "its answer is not JSON"}`);
      return;
    }
    const stale = report.stale || [];
    log.info(`runqlint: ${queue}: ${report.running} running, ${stale.length} stale`);
    for (const item of stale) {
      log.warn(
        `runqlint: ${queue}: stale ${oneLine(item.id, 80)} (no sign of life for ${Math.round(item.ageMs / 60000)} min)` +
          (item.answer ? `: ${oneLine(item.answer)}` : ""),
      );
    }
  }

  async function ended(queue, event) {
    const args = ["fix", queue, ...aliveFlags(s), ...common(s), "--session", event.targetSessionKey, "--format", "json"];
    if (typeof event.outcome === "string") {
      args.push("--ended", event.outcome);
      if (Number.isFinite(event.endedAt)) args.push("--ended-at", String(Math.trunc(event.endedAt)));
      if (typeof event.error === "string" && event.error.trim()) args.push("--ended-error", event.error);
    }
    if (s.mark) args.push("--mark", s.mark);
    if (s.mode !== "fix") args.push("--dry-run");
    logFix(queue, await runqlint(s, path.dirname(queue), args), s.mode === "fix" ? "fix" : "report");
  }

  async function refresh() {
    let running = 0;
    let stale = 0;
    for (const queue of s.queues) {
      const r = await runqlint(s, path.dirname(queue), ["stale", queue, ...common(s), "--format", "json"]);
      const why = failure(r);
      const report = why ? undefined : parseJson(r.stdout);
      if (!report) {
        log.warn(`runqlint: heartbeat ${queue}: ${why || "its answer is not JSON"}`);
        return;
      }
      running += Number(report.running) || 0;
      stale += (report.stale || []).length;
    }
    cache = { ...cache, at: Date.now(), line: `run queue: ${running} running, ${stale} stale` };
  }

  const handlers = {
    settings: s,

    gateway_start: (_event) => {
      try {
        if (!s.queues.length) {
          log.warn("runqlint: no queues configured (plugins.entries.runqlint.config.queues); nothing to reconcile");
          return;
        }
        // Not awaited: the gateway goes on while runqlint runs (see `settled`).
        for (const q of s.queues) serialized(q, () => reconcile(q));
      } catch (e) {
        log.error(`runqlint: gateway_start: ${oneLine(e && e.message ? e.message : e)}`);
      }
    },

    subagent_ended: (event) => {
      try {
        const key = event && event.targetSessionKey;
        if (typeof key !== "string" || !key.trim()) {
          log.warn("runqlint: subagent_ended without a targetSessionKey; nothing to reconcile");
          return;
        }
        for (const q of s.queues) serialized(q, () => ended(q, event));
      } catch (e) {
        log.error(`runqlint: subagent_ended: ${oneLine(e && e.message ? e.message : e)}`);
      }
    },

    heartbeat_prompt_contribution: (_event) => {
      try {
        if (!s.queues.length) return undefined;
        if (Date.now() - cache.at >= s.cacheMs && !cache.refreshing) {
          cache.refreshing = track(refresh())
            .catch((e) => log.warn(`runqlint: heartbeat: ${oneLine(e && e.message ? e.message : e)}`))
            .finally(() => {
              cache.refreshing = undefined;
            });
        }
        return cache.line ? { appendContext: cache.line } : undefined;
      } catch (e) {
        log.error(`runqlint: heartbeat_prompt_contribution: ${oneLine(e && e.message ? e.message : e)}`);
        return undefined;
      }
    },
  };
  return handlers;
}

export default {
  id: "runqlint",
  name: "runqlint",
  description:
    "Keeps run_queue.json true to OpenClaw's task ledger: reconciles it on gateway start and on each sub-agent end, and adds one line to heartbeat prompts.",
  register(api) {
    const h = createHandlers(api);
    api.on("gateway_start", h.gateway_start);
    api.on("subagent_ended", h.subagent_ended);
    api.on("heartbeat_prompt_contribution", h.heartbeat_prompt_contribution);
  },
};
