#!/usr/bin/env python3
"""Times `runqlint log ID` and `runqlint audit` on a generated repository against the
floor (git listing the commits that changed the file, then inflating each version once)
and against `git-history file` building its item table. Prints a Markdown table.

Usage: history_measure.py --runqlint BIN --repo DIR --summary FILE [--git-history BIN]
                          [--rounds 5] [--peer-timeout 3600]

Before timing, every tool's result is checked: `log` must list the events the generator
recorded, `audit` must blame each rule-breaking commit the generator made, and
git-history's table must hold every item.
"""

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd, cwd, timeout=None, ok=(0,)):
    """Runs `cmd`; returns (wall seconds, CPU seconds of the children, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.run(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode not in ok:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode()[:500]}")
    return wall, cpu, p.stdout


def peak_rss(cmd, cwd, ok=(0,)):
    """Peak RSS in MiB (GNU time), or None when /usr/bin/time is missing."""
    if not os.path.exists("/usr/bin/time"):
        return None
    p = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if p.returncode not in ok:
        return None
    return int(p.stderr.decode().strip().splitlines()[-1]) / 1024


def fmt(s):
    return f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runqlint", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--git-history")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--peer-timeout", type=int, default=3600)
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)
    with open(args.summary) as f:
        summary = json.load(f)
    log_id = summary["log_id"]
    env_git = ["git", "-C", repo]

    floor_sh = (
        "git log --format=%H -- run_queue.json | sed 's/$/:run_queue.json/' "
        "| git cat-file --batch >/dev/null"
    )
    tools = {
        "floor (git log + cat-file --batch)": (["sh", "-c", floor_sh], (0,)),
        f"runqlint log {log_id}": (
            [args.runqlint, "log", log_id, "--format", "json"],
            (0,),
        ),
        "runqlint audit": ([args.runqlint, "audit", "--format", "json"], (0, 1)),
    }

    # Each tool's answer, checked once before timing.
    versions = int(
        subprocess.check_output(
            [*env_git, "rev-list", "--count", "HEAD", "--", "run_queue.json"]
        )
    )
    _, _, out = run(tools[f"runqlint log {log_id}"][0], repo)
    events = json.loads(out)["events"]
    if len(events) != summary["log_events"]:
        sys.exit(f"log found {len(events)} events, the generator made {summary['log_events']}")
    _, _, out = run(tools["runqlint audit"][0], repo, ok=(0, 1))
    diags = json.loads(out)["diagnostics"]
    tsc = [d for d in diags if d["rule"] == "terminal-status-changed"]
    if len(tsc) != summary["breaking_commits"] or len({d["commit"] for d in tsc}) != len(tsc):
        sys.exit(f"audit blamed {len(tsc)} terminal-status-changed, the generator made {summary['breaking_commits']}")
    print(
        f"# {versions} versions; log: {len(events)} events; audit: {len(diags)} findings "
        f"({len(tsc)} terminal-status-changed, each at its own commit)",
        file=sys.stderr,
    )

    times = {name: [] for name in tools}
    cpus = {name: [] for name in tools}
    names = list(tools)
    for r in range(args.rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            cmd, ok = tools[name]
            wall, cpu, _ = run(cmd, repo, ok=ok)
            times[name].append(wall)
            cpus[name].append(cpu)
    rss = {name: peak_rss(tools[name][0], repo, tools[name][1]) for name in names}

    rows = []
    floor = statistics.median(times[names[0]])
    for name in names:
        m = statistics.median(times[name])
        rows.append(
            (name, fmt(m), f"{m / floor:.2f}", fmt(statistics.median(cpus[name])),
             f"{rss[name]:.0f} MiB" if rss[name] else "n/a")
        )

    if args.git_history:
        tmp = tempfile.mkdtemp(prefix="gh-bench-")
        db = os.path.join(tmp, "history.db")
        cmd = [
            args.git_history, "file", db, "run_queue.json", "--repo", repo,
            "--id", "id", "--convert", 'json.loads(content)["items"]', "--silent",
        ]
        try:
            wall, cpu, _ = run(cmd, tmp, timeout=args.peer_timeout)
            items = sqlite3.connect(db).execute("select count(*) from item").fetchone()[0]
            if items != summary["final_items"]:
                sys.exit(f"git-history's item table has {items} rows, the queue {summary['final_items']}")
            rows.append(("git-history file (item table)", fmt(wall), f"{wall / floor:.2f}", fmt(cpu), "n/a"))
        except subprocess.TimeoutExpired:
            rows.append((f"git-history file (item table)", f"> {args.peer_timeout} s (stopped)",
                         f"> {args.peer_timeout / floor:.0f}", "", ""))
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"| tool | wall (median of {args.rounds}) | × floor | CPU user+sys | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
