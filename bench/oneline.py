#!/usr/bin/env python3
"""The one-line benchmark (issue 23): `check --staged` in every output format and `audit`,
on the same queue pretty-printed and on one line, for one or more runqlint binaries.

A dispatcher written in Node may store its queue as `JSON.stringify(queue)`: one line.
What a finding costs must not grow with the length of its line, so the one-line queue must
cost about what the pretty-printed one does.

    python3 bench/oneline.py --work bench/work/oneline --runqlint target/release/runqlint
    python3 bench/oneline.py --work ... --runqlint OLD/runqlint --runqlint NEW/runqlint \
        --rounds 3 --items 100000 --stale 1000 --commits 4

Data (built once per generator version and parameters, under WORK/data-...):

  pretty/head.json, pretty/staged.json   bench/gen.py's 100k-item queue (HEAD) and its
          staged version, with the same STALE old items `running` and silent for 30 days in
          both (`gen.with_stale_pair`): STALE `stale-running` warnings, no error;
          Node-style 2-space JSON (`JSON.stringify(q, null, 2)` + newline)
  oneline/head.json, oneline/staged.json the same two documents as `JSON.stringify(q)`:
          one line, no final newline
  repos/check-{pretty,oneline}   HEAD holds head.json, the index holds staged.json
  repos/audit-{pretty,oneline}   COMMITS commits: head.json, staged.json, then staged.json
          with a few queued items appended per commit (a legal history; every version has
          the STALE stale items)

Before timing, every binary must report exactly STALE warnings and no error in both
styles, the same findings (rule, item, pointer) in both, and line 1 for every finding of
the one-line queue. Each binary's output of each run is compared with the first binary's
(positions unchanged: "same output"). Timing: every binary, style and command in turn, in
rounds; wall time around spawn..wait, CPU from the child's rusage; medians printed as a
Markdown table (format, pretty, one line, ratio). Standard library only.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402  (bench/gen.py: the queues of bench/run.sh)
from measure import NOW, git_env  # noqa: E402

# Raise when `prepare` writes different data (the data is rebuilt when this or gen.py changes).
DATA_VERSION = 1
FORMATS = ["human", "json", "github", "sarif"]
STYLES = ["pretty", "oneline"]


def one_line(doc):
    # Node's JSON.stringify(doc) for this data: no spaces, non-ASCII kept, no final newline.
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def git(repo, env, *args, stdin=None):
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, input=stdin,
                   stdout=subprocess.DEVNULL)


def new_repo(path, env):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)
    git(path, env, "init", "-q", "-b", "main")
    return path


def commit(repo, env, text, message):
    write(os.path.join(repo, "run_queue.json"), text)
    git(repo, env, "add", "run_queue.json")
    git(repo, env, "commit", "-q", "--no-verify", "-m", message)


def prepare(work, env, items, stale, commits):
    """The data and repositories, built once per generator version and parameters."""
    with open(os.path.join(HERE, "gen.py"), "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()[:10]
    data = os.path.join(work, f"data-{DATA_VERSION}-{digest}-{items}-{stale}-{commits}")
    done = os.path.join(data, ".done")
    if os.path.exists(done):
        return data
    shutil.rmtree(data, ignore_errors=True)
    sys.stderr.write(f"# generating {items} items with {stale} stale, {commits} commits\n")
    rng = gen.random.Random(f"runqlint-bench-{items}")
    head = [gen.make_item(rng, i, items) for i in range(items)]
    staged = gen.stage(rng, head, items)
    wrng = gen.random.Random(f"runqlint-bench-{items}-warn-{stale}")
    head, staged = gen.with_stale_pair(wrng, head, staged, min(stale, items // 20))
    versions = [head, staged]
    while len(versions) < commits:
        j = len(versions)
        versions.append(versions[-1] + [{
            "id": f"run_later_{j:04d}_{k}",
            "status": "queued",
            "title": f"Follow-up {j}.{k}",
            "taskIds": [f"task_later_{j}_{k}"],
            "createdAtMs": gen.NOW_MS - 4 * gen.MINUTE,
        } for k in range(3)])
    dumps = {"pretty": gen.dump, "oneline": one_line}
    for style, dump in dumps.items():
        write(os.path.join(data, style, "head.json"), dump({"items": head}))
        write(os.path.join(data, style, "staged.json"), dump({"items": staged}))
        repo = new_repo(os.path.join(data, "repos", f"check-{style}"), env)
        commit(repo, env, dump({"items": head}), "queue at HEAD")
        write(os.path.join(repo, "run_queue.json"), dump({"items": staged}))
        git(repo, env, "add", "run_queue.json")
        repo = new_repo(os.path.join(data, "repos", f"audit-{style}"), env)
        for n, v in enumerate(versions[:commits]):
            commit(repo, env, dump({"items": v}), f"queue version {n}")
        size = os.path.getsize(os.path.join(data, style, "staged.json"))
        sys.stderr.write(f"# {style}: {len(staged)} items, {size} bytes\n")
    open(done, "w").close()
    return data


def commands(data, formats):
    """(label, style, argv tail, cwd) of every timed command."""
    out = []
    for fmt in formats:
        for style in STYLES:
            out.append((f"check --staged --format {fmt}", style,
                        ["check", "--staged", "--now", NOW, "--format", fmt],
                        os.path.join(data, "repos", f"check-{style}")))
    for fmt in ("human", "json"):
        for style in STYLES:
            out.append((f"audit --format {fmt}", style, ["audit", "--now", NOW, "--format", fmt],
                        os.path.join(data, "repos", f"audit-{style}")))
    return out


def run(argv, cwd, env):
    """(wall s, CPU s, exit code, stdout bytes) of one run."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    return wall, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status), out


def verify(binary, data, env, stale):
    """The findings of `check --format json` in both styles, held to what the data holds."""
    seen = {}
    for style in STYLES:
        cwd = os.path.join(data, "repos", f"check-{style}")
        _, _, code, out = run([binary, "check", "--staged", "--now", NOW, "--format", "json"], cwd, env)
        report = json.loads(out)
        diags = report["diagnostics"]
        if code != 0 or report["summary"] != {"errors": 0, "warnings": stale}:
            sys.exit(f"{binary} on the {style} queue: exit {code}, {report['summary']} (expected {stale} warnings)")
        if style == "oneline" and any(d["line"] != 1 or d["endLine"] != 1 for d in diags):
            sys.exit(f"{binary}: a finding of the one-line queue is not on line 1")
        seen[style] = sorted((d["rule"], d.get("itemId"), d["pointer"]) for d in diags)
    if seen["pretty"] != seen["oneline"]:
        sys.exit(f"{binary}: the two styles give different findings")


def fmt_s(s):
    return f"{s * 1000:,.0f} ms" if s < 10 else f"{s:,.1f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runqlint", action="append", required=True, help="a binary (repeatable)")
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--stale", type=int, default=1000)
    ap.add_argument("--commits", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--no-audit", action="store_true")
    args = ap.parse_args()

    work = os.path.abspath(args.work)
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, "gitconfig"), "w") as f:
        f.write("[user]\n\tname = Bench\n\temail = bench@example.invalid\n[commit]\n\tgpgsign = false\n"
                "[core]\n\tautocrlf = false\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n")
    env = git_env(home)
    stale = min(args.stale, args.items // 20)
    data = prepare(work, env, args.items, stale, args.commits)
    binaries = [os.path.abspath(b) for b in args.runqlint]
    for b in binaries:
        verify(b, data, env, stale)
    cmds = commands(data, [f for f in args.formats.split(",") if f])
    if args.no_audit:
        cmds = [c for c in cmds if not c[0].startswith("audit")]

    times = {}  # (binary, label, style) -> [wall]
    cpu = {}
    first_out = {}
    same = {}
    for r in range(args.rounds):
        for label, style, tail, cwd in cmds:
            for b in binaries:
                wall, c, code, out = run([b, *tail], cwd, env)
                if code not in (0, 1):
                    sys.exit(f"{b} {' '.join(tail)} in {cwd}: exit {code}")
                key = (label, style)
                first_out.setdefault(key, out)
                same[(b, *key)] = same.get((b, *key), True) and out == first_out[key]
                times.setdefault((b, *key), []).append(wall)
                cpu.setdefault((b, *key), []).append(c)
                sys.stderr.write(f"# round {r + 1}: {os.path.basename(os.path.dirname(b))}/{os.path.basename(b)} "
                                 f"{label} ({style}): {fmt_s(wall)}\n")

    print(f"{args.items:,} items, {stale:,} stale-running warnings, {args.rounds} rounds, medians "
          f"(wall; CPU user+sys in brackets); audit: {args.commits} one-line or pretty versions\n")
    print("| binary | command | pretty | one line | ratio | same output as the first binary |")
    print("|---|---|---:|---:|---:|:---:|")
    for b in binaries:
        for label in dict.fromkeys(c[0] for c in cmds):
            med = {s: statistics.median(times[(b, label, s)]) for s in STYLES}
            mcpu = {s: statistics.median(cpu[(b, label, s)]) for s in STYLES}
            shown = " ".join(f"{s}" for s in STYLES if not same[(b, label, s)]) or "yes"
            print(f"| {b} | {label} | {fmt_s(med['pretty'])} ({fmt_s(mcpu['pretty'])}) "
                  f"| {fmt_s(med['oneline'])} ({fmt_s(mcpu['oneline'])}) "
                  f"| {med['oneline'] / med['pretty']:.2f}× | {'yes' if shown == 'yes' else 'no: ' + shown} |")


if __name__ == "__main__":
    main()
