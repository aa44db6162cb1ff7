#!/usr/bin/env python3
"""Deterministic benchmark queues for runqlint (standard library only).

For each size N this writes, under OUT/N/:

  head.json    the version committed at HEAD: N items of realistic history
  staged.json  HEAD plus a few legal changes (appended queued items, queued -> running,
               running -> done/failed, triage added to finished items), so that
               `runqlint check --staged` really compares two different versions
  fix.json     (with --stale K) the staged version in which K running items have been
               silent for 30 days: what `runqlint fix` repairs
  warnW/head.json, warnW/staged.json
               (with --warn W, for the largest size only) head and staged in which the same
               W old items are `running` and silent for 30 days in both versions: a
               legal history with exactly W `stale-running` warnings and no error

The files look like what a Node dispatcher writes (`JSON.stringify(q, null, 2)` plus a
final newline, non-ASCII kept as is), about 400 bytes per item. Checked at NOW_MS
(2026-11-25T00:00:00Z) no rule reports an error; at most warnings in fix.json.

    python3 bench/gen.py OUT 1000 10000 100000 --stale 100 --warn 5,100
"""

import argparse
import json
import os
import random

NOW_MS = 1_795_564_800_000  # 2026-11-25T00:00:00Z, pass as --now
DAY = 86_400_000
HOUR = 3_600_000
MINUTE = 60_000

TOPICS = [
    "Nightly digest",
    "Inbox triage",
    "Contacts sync",
    "Research notes",
    "Ship-ready review",
    "Weekly report",
    "Calendar cleanup",
    "Résumé parsing",
    "Dependency audit",
    "Meeting summary",
]
ERRORS = [
    "timeout after 3600s waiting for child session",
    "exit 137 (killed: out of memory)",
    "child session lost: dispatcher restarted",
    'tool call failed: "search" returned 503',
]


def dump(doc):
    # Node's JSON.stringify(doc, null, 2) + "\n" for this data.
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def make_item(rng, i, n):
    """Item i of n, created in order over the last ~300 days."""
    created = NOW_MS - 300 * DAY + (i * 300 * DAY) // max(n, 1) + rng.randrange(0, MINUTE)
    created = min(created, NOW_MS - 3 * HOUR)
    item = {
        "id": f"run_{i:07d}_{rng.randrange(16**6):06x}",
        "status": "done",
        "title": f"{rng.choice(TOPICS)} #{i}",
        "taskIds": [f"task_{i:07d}_{k}" for k in range(rng.choice((1, 1, 1, 2)))],
        "createdAtMs": created,
    }
    if rng.random() < 0.05:
        item["notes"] = 'Operator said: "re-run only if the inbox changed"\nsee runbook §4'
    tail = n - i  # how recent: the newest items are still queued or running
    if tail <= max(1, n // 50):
        status = "queued" if rng.random() < 0.6 else "running"
    else:
        r = rng.random()
        status = "done" if r < 0.8 else "failed" if r < 0.95 else "canceled" if r < 0.99 else "stale"
    item["status"] = status
    if status == "queued":
        return item
    started = created + rng.randrange(MINUTE, 2 * HOUR)
    run = {"startedAtMs": started}
    if status == "running":
        started = NOW_MS - rng.randrange(MINUTE, 2 * HOUR)
        item["createdAtMs"] = min(item["createdAtMs"], started - MINUTE)
        heartbeat = NOW_MS - rng.randrange(0, min(5 * MINUTE, NOW_MS - started))
        run = {"startedAtMs": started, "lastHeartbeatAtMs": heartbeat}
    elif status in ("done", "failed"):
        run["finishedAtMs"] = started + rng.randrange(5_000, HOUR)
    run["attempt"] = rng.choice((1, 1, 1, 2))
    if rng.random() < 0.5:
        run["dispatcherRunId"] = f"disp_{(started // DAY):05d}_{rng.randrange(100):02d}"
    run["childSessionKey"] = f"agent:hq:sub:{rng.randrange(16**8):08x}"
    if rng.random() < 0.3:
        run["staleAfterMs"] = 6 * HOUR
    if status == "failed":
        run["error"] = rng.choice(ERRORS)
    item["run"] = run
    if status == "stale" or (status == "failed" and rng.random() < 0.2):
        item["triage"] = {
            "status": "needs_review",
            "reason": "stale_running",
            "flaggedAtMs": run.get("finishedAtMs", started) + HOUR,
        }
    if rng.random() < 0.1:
        item["costUsd"] = round(rng.random() * 2, 4)  # an unknown field, kept by everyone
    return item


def stage(rng, items, n):
    """A few legal moves on a copy of `items`, plus a few appended items."""
    items = json.loads(json.dumps(items))
    k = max(3, n // 2000)
    queued = [it for it in items if it["status"] == "queued"]
    running = [it for it in items if it["status"] == "running"]
    finished = [it for it in items if it["status"] in ("done", "failed") and "triage" not in it]
    for it in rng.sample(queued, min(k, len(queued))):
        it["status"] = "running"
        it["run"] = {"startedAtMs": NOW_MS - 10 * MINUTE, "attempt": 1,
                     "childSessionKey": f"agent:hq:sub:{rng.randrange(16**8):08x}"}
    for j, it in enumerate(rng.sample(running, min(k, len(running)))):
        it["status"] = "done" if j % 3 else "failed"
        it["run"]["finishedAtMs"] = NOW_MS - MINUTE
        if it["status"] == "failed":
            it["run"]["error"] = ERRORS[0]
    for it in rng.sample(finished, min(k, len(finished))):
        it["triage"] = {"status": "needs_review", "reason": "operator_check", "flaggedAtMs": NOW_MS - HOUR}
    for j in range(k):
        items.append({
            "id": f"run_new_{n}_{j:04d}",
            "status": "queued",
            "title": f"{rng.choice(TOPICS)} follow-up {j}",
            "taskIds": [f"task_new_{j}"],
            "createdAtMs": NOW_MS - 5 * MINUTE,
        })
    return items


def make_stale(rng, items, count):
    """`count` running items silent for 30 days (what fix repairs)."""
    items = json.loads(json.dumps(items))
    old = [it for it in items if it["status"] in ("done", "failed") and "triage" not in it]
    for it in rng.sample(old, count):
        it["status"] = "running"
        run = it["run"]
        run.pop("finishedAtMs", None)
        run.pop("error", None)
        run["startedAtMs"] = NOW_MS - 30 * DAY - rng.randrange(0, DAY)
        it["createdAtMs"] = min(it["createdAtMs"], run["startedAtMs"])
        run.pop("lastHeartbeatAtMs", None)
        run.pop("staleAfterMs", None)
    return items


def with_stale_pair(rng, head, staged, count):
    """`head` and `staged` with the same `count` old items running and silent in both."""
    head, staged = json.loads(json.dumps(head)), json.loads(json.dumps(staged))
    by_id = {it["id"]: it for it in head}
    old = [it for it in staged if it["status"] in ("done", "failed") and "triage" not in it
           and by_id.get(it["id"], {}).get("status") == it["status"]]
    for it in sorted(rng.sample(old, count), key=lambda it: it["id"]):
        started = NOW_MS - 30 * DAY - rng.randrange(0, DAY)
        for version in (it, by_id[it["id"]]):
            version["status"] = "running"
            run = version["run"]
            for k in ("finishedAtMs", "error", "lastHeartbeatAtMs", "staleAfterMs"):
                run.pop(k, None)
            run["startedAtMs"] = started
            version["createdAtMs"] = min(version["createdAtMs"], started)
    return head, staged


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("sizes", type=int, nargs="+")
    ap.add_argument("--stale", type=int, default=0, help="also write fix.json with this many stale running items")
    ap.add_argument("--warn", default="", help="comma-separated warning counts: warnW/ pairs for the largest size")
    args = ap.parse_args()
    warns = [int(w) for w in args.warn.split(",") if w]
    for n in args.sizes:
        rng = random.Random(f"runqlint-bench-{n}")
        items = [make_item(rng, i, n) for i in range(n)]
        d = os.path.join(args.out, str(n))
        os.makedirs(d, exist_ok=True)
        staged = stage(rng, items, n)
        files = {"head.json": items, "staged.json": staged}
        if args.stale:
            files["fix.json"] = make_stale(rng, staged, min(args.stale, n // 20))
        if n == max(args.sizes):
            for w in warns:
                wrng = random.Random(f"runqlint-bench-{n}-warn-{w}")
                h, s = with_stale_pair(wrng, items, staged, min(w, n // 20))
                files[f"warn{w}/head.json"], files[f"warn{w}/staged.json"] = h, s
        for name, its in files.items():
            text = dump({"items": its})
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        size = os.path.getsize(os.path.join(d, "staged.json"))
        print(f"{d}: {len(staged)} items, {size} bytes ({size // len(staged)} bytes/item)")


if __name__ == "__main__":
    main()
