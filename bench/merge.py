#!/usr/bin/env python3
"""The merge benchmark (issue #12): concurrent-branch scenarios on a realistic queue, merged
by each tool, judged the same way. Standard library only.

    python3 bench/merge.py --runqlint target/release/runqlint [--mergiraf PATH] \
        [--mergiraf-max N] [--sizes 1000,10000,100000] [--rounds 3] [--work bench/work/merge]
    python3 bench/merge.py --prepare [--sizes ...]   # only write the scenario files

`--mergiraf-max N` leaves mergiraf out above N items (it takes minutes per merge at 100k).
With `--prepare`, each scenario's base.json, ours.json and theirs.json are written to
WORK/<items>-<scenario>/ and nothing is merged: what `/usr/bin/time runqlint merge-driver
base.json ours.json theirs.json 7 run_queue.json` is run on (on a copy of ours.json, which the
driver overwrites).

Scenarios (base = bench/gen.py's realistic history plus K recent running items, K = max(10,
N/100)); each side changes the base as a dispatcher on a branch would:

  appends        both sides append K new queued items (different ids)
  progress       both sides move the same K running items forward differently: ours marks
                 the first half stale (with triage) and heartbeats the second; theirs
                 finishes the first half and marks the second stale; each side starts
                 different queued items
  heartbeat-done ours heartbeats the K running items; theirs completes the same K items
  contradict     K/2 running items finished `done` on ours and `failed` on theirs, K/2
                 queued items retitled differently on both sides, plus K appends each side
                 (K true contradictions)

Tools: git's default merge (`git merge-file`, the three-way line merge `git merge` runs on a
file), `git merge-file --union`, mergiraf (`mergiraf merge --git`, its merge-driver mode),
runqlint (`merge-driver`).

Judged per result: conflict regions (`<<<<<<<` lines), contradictions reported (a
contradicted item whose id is in a conflict region, its label, or is the item the region
sits in), whether the result is JSON, whether `runqlint check` passes against both parents
(errors only; warnings allowed), items lost (an id of either side absent from the text) and
duplicated (an id present more than once in a JSON result), and the median wall time.
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

NOW_MS = gen.NOW_MS
MINUTE = gen.MINUTE
ID_RE = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')


def base_items(n):
    rng = random.Random(f"runqlint-merge-{n}")
    items = [gen.make_item(rng, i, n) for i in range(n)]
    k = max(10, n // 100)
    # K recent running items, spread through the file.
    done = [it for it in items if it["status"] == "done" and "triage" not in it]
    for it in rng.sample(done, k):
        it["status"] = "running"
        run = it["run"]
        run.pop("finishedAtMs", None)
        run["startedAtMs"] = NOW_MS - 30 * MINUTE - rng.randrange(0, 30 * MINUTE)
        run["lastHeartbeatAtMs"] = run["startedAtMs"] + MINUTE
        it["createdAtMs"] = min(it["createdAtMs"], run["startedAtMs"] - MINUTE)
    return items, k


def copy(items):
    return json.loads(json.dumps(items))


def new_item(side, n, j):
    return {
        "id": f"run_{side}_{n}_{j:05d}",
        "status": "queued",
        "title": f"{side} follow-up {j}",
        "taskIds": [f"task_{side}_{j}"],
        "createdAtMs": NOW_MS - 5 * MINUTE,
    }


def scenario(name, items, n, k):
    """(ours, theirs, contradicted ids)."""
    o, t = copy(items), copy(items)
    running = [i for i, it in enumerate(items) if it["status"] == "running"][:k]
    queued = [i for i, it in enumerate(items) if it["status"] == "queued"]
    contradicted = []
    if name == "appends":
        o += [new_item("ours", n, j) for j in range(k)]
        t += [new_item("theirs", n, j) for j in range(k)]
    elif name == "progress":
        half = len(running) // 2
        for i in running[:half]:
            # ours: stale + triage; theirs: done. Lattice: done, with the triage.
            o[i]["status"] = "stale"
            o[i]["triage"] = {"status": "needs_review", "reason": "stale_running", "flaggedAtMs": NOW_MS - MINUTE}
            t[i]["status"] = "done"
            t[i]["run"]["finishedAtMs"] = NOW_MS - 2 * MINUTE
        for i in running[half:]:
            # ours: heartbeat; theirs: stale + triage.
            o[i]["run"]["lastHeartbeatAtMs"] = NOW_MS - MINUTE
            t[i]["status"] = "stale"
            t[i]["triage"] = {"status": "needs_review", "reason": "stale_running", "flaggedAtMs": NOW_MS - MINUTE}
        for side, qs in ((o, queued[0::2]), (t, queued[1::2])):
            for i in qs:
                side[i]["status"] = "running"
                side[i]["run"] = {"startedAtMs": NOW_MS - 3 * MINUTE, "attempt": 1}
    elif name == "heartbeat-done":
        for i in running:
            o[i]["run"]["lastHeartbeatAtMs"] = NOW_MS - MINUTE
            t[i]["status"] = "done"
            t[i]["run"]["finishedAtMs"] = NOW_MS - 2 * MINUTE
    elif name == "contradict":
        half = k // 2
        for i in running[:half]:
            for side, st in ((o, "done"), (t, "failed")):
                side[i]["status"] = st
                side[i]["run"]["finishedAtMs"] = NOW_MS - 2 * MINUTE
            contradicted.append(items[i]["id"])
        for i in queued[: k - half]:
            o[i]["title"] = "retitled on ours"
            t[i]["title"] = "retitled on theirs"
            contradicted.append(items[i]["id"])
        o += [new_item("ours", n, j) for j in range(k)]
        t += [new_item("theirs", n, j) for j in range(k)]
    else:
        raise ValueError(name)
    return o, t, contradicted


SCENARIOS = ["appends", "progress", "heartbeat-done", "contradict"]


def git(args, cwd, check=True):
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True)


def make_repo(d, ours_text, theirs_text):
    """A repository whose branches `ours` and `theirs` hold the two parents."""
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    env_cfg = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]
    git(["init", "-q", "-b", "ours"], d)
    for branch, text in (("ours", ours_text), ("theirs", theirs_text)):
        if branch == "theirs":
            git(["checkout", "-q", "-b", "theirs"], d)
        with open(os.path.join(d, "run_queue.json"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
        git(["add", "run_queue.json"], d)
        git([*env_cfg, "commit", "-q", "--allow-empty", "--no-verify", "-m", branch], d)


def run_tool(tool, paths, out, runqlint, mergiraf, timeout):
    base, ours, theirs = paths
    shutil.copyfile(ours, out)
    if tool == "git":
        cmd = ["git", "merge-file", "-L", "ours", "-L", "base", "-L", "theirs", out, base, theirs]
    elif tool == "union":
        cmd = ["git", "merge-file", "--union", out, base, theirs]
    elif tool == "mergiraf":
        # Its driver mode, as registered in git: the result is written over ours.
        cmd = [mergiraf, "merge", "--git", base, out, theirs, "-p", "run_queue.json"]
    else:
        cmd = [runqlint, "merge-driver", base, out, theirs, "7", "run_queue.json"]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, timeout
    dt = time.perf_counter() - t0
    return p.returncode, p.stderr.decode("utf-8", "replace"), dt


def judge(text, stderr, ours_ids, theirs_ids, contradicted, repo, runqlint, out):
    lines = text.split("\n")
    regions = []  # (label+content text, id of the item the region sits in)
    cur = None
    last_id = None
    for line in lines:
        if line.startswith("<<<<<<<"):
            cur = [line, last_id]
        elif line.startswith(">>>>>>>") and cur is not None:
            cur[0] += "\n" + line
            regions.append(tuple(cur))
            cur = None
        elif cur is not None:
            cur[0] += "\n" + line
        for m in ID_RE.finditer(line):
            if cur is None:
                last_id = m.group(1)
    covered = set()
    for body, sits_in in regions:
        covered.update(m.group(1) for m in ID_RE.finditer(body))
        if sits_in:
            covered.add(sits_in)
        covered.update(re.findall(r'item "((?:[^"\\]|\\.)*)"', body.split("\n")[0]))
    reported = sum(1 for c in contradicted if c in covered)
    try:
        doc = json.loads(text)
        is_json = True
    except ValueError:
        doc, is_json = None, False
    present = {}
    if is_json:
        items = doc.get("items", []) if isinstance(doc, dict) else doc
        for it in items:
            if isinstance(it, dict) and "id" in it:
                present[it["id"]] = present.get(it["id"], 0) + 1
    else:
        for m in ID_RE.finditer(text):
            present[m.group(1)] = present.get(m.group(1), 0) + 1
    want = set(ours_ids) | set(theirs_ids)
    lost = sum(1 for i in want if i not in present)
    dup = sum(1 for i, c in present.items() if c > 1) if is_json else None
    check = None
    if is_json:
        shutil.copyfile(out, os.path.join(repo, "run_queue.json"))
        check = True
        for rev in ("ours", "theirs"):
            p = subprocess.run(
                [runqlint, "check", "--now", str(NOW_MS), "--base", rev, "run_queue.json"],
                cwd=repo, capture_output=True,
            )
            if p.returncode != 0:
                check = False
        git(["checkout", "-q", "--", "run_queue.json"], repo)
    return {
        "conflicts": len(regions),
        "reported": reported,
        "json": is_json,
        "check": check,
        "lost": lost,
        "dup": dup,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runqlint")
    ap.add_argument("--mergiraf")
    ap.add_argument("--mergiraf-max", type=int, help="leave mergiraf out above this many items")
    ap.add_argument("--prepare", action="store_true", help="only write the scenario files")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--work", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "merge"))
    args = ap.parse_args()
    if not args.prepare and not args.runqlint:
        ap.error("--runqlint is required unless --prepare")
    if args.runqlint:
        args.runqlint = os.path.abspath(args.runqlint)
    if args.mergiraf:
        args.mergiraf = os.path.abspath(args.mergiraf)
    tools = ["git", "union"] + (["mergiraf"] if args.mergiraf else []) + ["runqlint"]
    names = {"git": "git merge (default)", "union": "git merge-file --union",
             "mergiraf": "mergiraf", "runqlint": "runqlint merge-driver"}
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        items, k = base_items(n)
        for sc in SCENARIOS:
            o, t, contradicted = scenario(sc, items, n, k)
            d = os.path.join(args.work, f"{n}-{sc}")
            os.makedirs(d, exist_ok=True)
            paths = [os.path.join(d, f) for f in ("base.json", "ours.json", "theirs.json")]
            for p, its in zip(paths, (items, o, t)):
                with open(p, "w", encoding="utf-8", newline="\n") as f:
                    f.write(gen.dump({"items": its}))
            if args.prepare:
                print(f"# wrote {d}", file=sys.stderr)
                continue
            repo = os.path.join(d, "repo")
            make_repo(repo, open(paths[1], encoding="utf-8").read(), open(paths[2], encoding="utf-8").read())
            ours_ids = [it["id"] for it in o]
            theirs_ids = [it["id"] for it in t]
            for tool in tools:
                if tool == "mergiraf" and args.mergiraf_max is not None and n > args.mergiraf_max:
                    rows.append((n, sc, names[tool], "skipped", len(contradicted)))
                    print(f"# {n} {sc} {tool}: left out above {args.mergiraf_max} items", file=sys.stderr)
                    continue
                out = os.path.join(d, f"out-{tool}.json")
                times = []
                rounds = 1 if tool == "mergiraf" and n >= 100000 else args.rounds
                for _ in range(rounds):
                    code, stderr, dt = run_tool(tool, paths, out, args.runqlint, args.mergiraf, args.timeout)
                    times.append(dt)
                    if code is None:
                        break
                if code is None:
                    rows.append((n, sc, names[tool], None, len(contradicted)))
                    print(f"# {n} {sc} {tool}: timeout after {args.timeout}s", file=sys.stderr)
                    continue
                text = open(out, encoding="utf-8", errors="replace").read()
                r = judge(text, stderr, ours_ids, theirs_ids, contradicted, repo, args.runqlint, out)
                r["time"] = statistics.median(times)
                r["exit"] = code
                if tool == "runqlint":
                    r["stderr_lines"] = len([l for l in stderr.splitlines() if ": conflict: " in l])
                rows.append((n, sc, names[tool], r, len(contradicted)))
                print(f"# {n} {sc} {tool}: {r}", file=sys.stderr)
    if args.prepare:
        return
    print("| items | scenario | tool | conflicts | contradictions reported | valid JSON | check vs both parents | lost | duplicated | time (median) |")
    print("|---:|---|---|---:|---:|:---:|:---:|---:|---:|---:|")
    for n, sc, tool, r, nc in rows:
        if r == "skipped":
            print(f"| {n:,} | {sc} | {tool} | not run (`MERGIRAF_MAX`) | | | | | | |")
            continue
        if r is None:
            print(f"| {n:,} | {sc} | {tool} | timeout | | | | | | > {args.timeout:.0f} s |")
            continue
        rep = f"{r['reported']}/{nc}" if nc else "–"
        chk = "–" if r["check"] is None else ("pass" if r["check"] else "**fail**")
        dup = "–" if r["dup"] is None else r["dup"]
        t = r["time"]
        ts = f"{t * 1000:.0f} ms" if t < 10 else f"{t:.1f} s"
        js = "yes" if r["json"] else "**no**"
        print(f"| {n:,} | {sc} | {tool} | {r['conflicts']} | {rep} | {js} | {chk} | {r['lost']} | {dup} | {ts} |")


if __name__ == "__main__":
    main()
