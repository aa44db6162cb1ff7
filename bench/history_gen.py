#!/usr/bin/env python3
"""Generates the history benchmark's repository: COMMITS commits of a queue of ITEMS items
on average (it starts COMMITS/2 short and grows by one a commit), a few items changed per
commit, as a dispatcher would (queued -> running -> done or
failed, new items appended, triage added to failures), plus a handful of rule-breaking
commits so that `audit` has something to report.

Usage: history_gen.py REPO [--commits 2000] [--items 5000] [--seed 13]

Writes a `git fast-import` stream into a new repository at REPO (the file is
`run_queue.json`, Node-style 2-space JSON) and prints a JSON summary on stdout: the id
`log` is timed on, its number of events, and the commits that break a rule. Standard
library only, deterministic for a given seed.
"""

import argparse
import json
import os
import random
import subprocess
import sys

T0_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z
STEP_MS = 10 * 60_000  # ten minutes between commits


def block(item):
    """The item as it sits in the items array: 4-space indented 2-space JSON."""
    text = json.dumps(item, indent=2, ensure_ascii=False)
    return "\n".join("    " + line for line in text.split("\n"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--commits", type=int, default=2000)
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    items = []
    initial = args.items - args.commits // 2
    for i in range(initial):
        created = T0_MS - (initial - i) * 60_000
        item = {
            "id": f"task-{i:05d}",
            "title": f"Task {i}: {rng.choice(['sync', 'build', 'review', 'deploy', 'index'])} {rng.choice(['docs', 'api', 'cli', 'ui', 'data'])}",
            "status": "queued",
            "createdAtMs": created,
        }
        # The older four fifths are history, the rest still queued.
        if i < initial * 4 // 5:
            status = rng.choice(["done"] * 8 + ["failed", "canceled"])
            item["status"] = status
            if status != "canceled":
                item["run"] = {
                    "startedAtMs": created + 1000,
                    "lastHeartbeatAtMs": created + 30_000,
                    "finishedAtMs": created + 50_000,
                    "attempt": 1,
                }
            if status == "failed":
                item["triage"] = {"flaggedAtMs": created + 60_000, "note": "exit 1"}
        if i % 7 == 0:
            item["notes"] = "see \"runbook\" \u2014 r\u00e9sum\u00e9"
        items.append(item)
    blocks = [block(it) for it in items]
    position = {it["id"]: n for n, it in enumerate(items)}
    queued = [it["id"] for it in items if it["status"] == "queued"]
    running = []  # (id, commit it started at)
    next_id = initial
    # The item `log` follows: one queued at the start that is dispatched mid-history.
    log_id = queued[len(queued) // 2]
    log_events = 1
    breaking = []

    os.makedirs(args.repo, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", args.repo], check=True)
    fi = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=args.repo,
        stdin=subprocess.PIPE,
    )
    out = fi.stdin

    def emit(n, message):
        now = T0_MS + n * STEP_MS
        doc = '{\n  "items": [\n' + ",\n".join(blocks) + "\n  ]\n}\n"
        data = doc.encode()
        msg = message.encode()
        header = (
            f"commit refs/heads/main\nmark :{n + 1}\n"
            f"author Dispatcher <dispatch@example.invalid> {now // 1000} +0000\n"
            f"committer Dispatcher <dispatch@example.invalid> {now // 1000} +0000\n"
            f"data {len(msg)}\n"
        ).encode()
        out.write(header + msg + b"\n")
        if n > 0:
            out.write(f"from :{n}\n".encode())
        out.write(f"M 100644 inline run_queue.json\ndata {len(data)}\n".encode())
        out.write(data + b"\n")

    def update(item):
        blocks[position[item["id"]]] = block(item)

    emit(0, "queue: initial import")
    for n in range(1, args.commits):
        now = T0_MS + n * STEP_MS
        touched = []
        # Finish runs that have gone on long enough (well under the 6h threshold).
        still = []
        for rid, started in running:
            if n - started >= rng.randint(3, 20):
                it = items[position[rid]]
                it["status"] = "done" if rng.random() < 0.85 else "failed"
                it["run"]["finishedAtMs"] = now
                it["run"]["lastHeartbeatAtMs"] = now
                if it["status"] == "failed":
                    it["triage"] = {"flaggedAtMs": now, "note": "exit 1"}
                update(it)
                touched.append(rid)
            else:
                still.append((rid, started))
        running = still
        # Dispatch one or two queued items, oldest first.
        for _ in range(rng.choice([1, 1, 1, 2])):
            if not queued:
                break
            rid = queued.pop(0)
            it = items[position[rid]]
            it["status"] = "running"
            it["run"] = {"startedAtMs": now, "lastHeartbeatAtMs": now, "attempt": 1}
            update(it)
            running.append((rid, n))
            touched.append(rid)
        # New work arrives.
        for _ in range(rng.choice([0, 1, 1, 2])):
            rid = f"task-{next_id:05d}"
            next_id += 1
            it = {
                "id": rid,
                "title": f"Task {next_id}: follow-up",
                "status": "queued",
                "createdAtMs": now,
            }
            items.append(it)
            position[rid] = len(items) - 1
            blocks.append(block(it))
            queued.append(rid)
            touched.append(rid)
        # Now and then a commit breaks a rule: a finished item put back in the queue.
        if n % 400 == 200:
            done = [it for it in items if it["status"] == "done" and it["id"] != log_id]
            it = rng.choice(done)
            it["status"] = "queued"
            update(it)
            touched.append(it["id"])
            breaking.append(n)
        log_events += touched.count(log_id)
        emit(n, f"dispatch: {len(touched)} items ({', '.join(touched[:3])})")

    out.write(b"done\n")
    out.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", args.repo, "checkout", "-q", "-f", "main"], check=True)
    # A repository as people have it: packed, with deltas.
    subprocess.run(["git", "-C", args.repo, "repack", "-a", "-d", "-q"], check=True)
    json.dump(
        {
            "log_id": log_id,
            "log_events": log_events,
            "breaking_commits": len(breaking),
            "commits": args.commits,
            "final_items": len(items),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
