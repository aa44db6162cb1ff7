#!/usr/bin/env python3
"""Runs runqlint and the schema-only peers in alternation and prints a Markdown table.

Called by bench/run.sh once the tools are installed; standard library only. Wall time is
measured around spawn..wait with time.perf_counter; CPU time comes from the child's rusage
(os.wait4). Peak RSS comes from GNU time (`/usr/bin/time -f %M`) when it is there: a child
forked by Python inherits Python's resident pages until it execs, so its own ru_maxrss
never reads below Python's (about 17 MiB), which would hide the small runs. Without GNU
time the rusage figure is printed and marked.

Every tool validates the same staged file (`staged.json`); runqlint additionally reads the
HEAD version from git and runs every rule. Medians over the rounds are printed, with the
ratio to jsonschema-cli measured in the same rounds.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

NOW = "2026-11-25T00:00:00Z"


def git_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.path.join(home, "gitconfig"),
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        "NO_COLOR": "1",
        "LC_ALL": "C",
    })
    return env


def git(repo, env, *args):
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL)


def make_repo(path, env, head, staged=None, fresh=True):
    """A repository whose HEAD holds `head` as run_queue.json and whose index holds `staged`."""
    if fresh and os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path, exist_ok=True)
    git(path, env, "init", "-q", "-b", "main")
    shutil.copyfile(head, os.path.join(path, "run_queue.json"))
    git(path, env, "add", "run_queue.json")
    git(path, env, "commit", "-q", "--no-verify", "-m", "queue at HEAD")
    if staged:
        shutil.copyfile(staged, os.path.join(path, "run_queue.json"))
        git(path, env, "add", "run_queue.json")
    return path


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
RSS_FILE = None


def run_once(argv, cwd, env):
    """(wall seconds, cpu seconds, peak RSS KiB, exit code) of one run."""
    if GNU_TIME:
        argv = [GNU_TIME, "-q", "-f", "%M", "-o", RSS_FILE, *argv]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    rss = ru.ru_maxrss
    if GNU_TIME:
        with open(RSS_FILE) as f:
            lines = f.read().split()
        rss = int(lines[-1]) if lines and lines[-1].isdigit() else rss
    return wall, ru.ru_utime + ru.ru_stime, rss, code


def show_failure(argv, cwd, env):
    out = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    sys.stderr.write(f"$ {' '.join(argv)}  (exit {out.returncode})\n{out.stdout[-2000:]}{out.stderr[-2000:]}\n")


def fmt_s(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--runqlint", required=True)
    ap.add_argument("--schema", required=True, help="the draft 2020-12 schema")
    ap.add_argument("--jsonschema-cli")
    ap.add_argument("--ajv")
    ap.add_argument("--check-jsonschema")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--fix-size", type=int, default=100000)
    ap.add_argument("--stale", type=int, default=100)
    ap.add_argument("--hook-size", type=int, default=100, help="items of the pre-commit comparison")
    ap.add_argument("--warn", default="5,100", help="warning counts of the warnW/ pairs of the largest size")
    args = ap.parse_args()

    work = os.path.abspath(args.work)
    global RSS_FILE
    RSS_FILE = os.path.join(work, "rss.txt")
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, "gitconfig"), "w") as f:
        f.write("[user]\n\tname = Bench\n\temail = bench@example.invalid\n[commit]\n\tgpgsign = false\n"
                "[core]\n\tautocrlf = false\n[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n")
    env = git_env(home)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    data = os.path.join(work, "data")

    # Each tool: name -> argv builder (staged file, repo) -> argv, cwd.
    tools = []
    if args.jsonschema_cli:
        tools.append(("jsonschema-cli", lambda f, r: ([args.jsonschema_cli, "validate", args.schema, "-i", f], r)))
    if args.ajv:
        tools.append(("ajv-cli", lambda f, r: ([args.ajv, "validate", "--spec=draft2020", "--allow-union-types",
                                                "-s", args.schema, "-d", f], r)))
    if args.check_jsonschema:
        tools.append(("check-jsonschema", lambda f, r: ([args.check_jsonschema, "--schemafile", args.schema, f], r)))
    tools.append(("runqlint check --staged", lambda f, r: ([args.runqlint, "check", "--staged", "--now", NOW], r)))

    # Sanity: every tool rejects an invalid document (so each really validates).
    bad = os.path.join(work, "invalid.json")
    with open(os.path.join(data, str(sizes[0]), "staged.json")) as f:
        doc = json.load(f)
    doc["items"][0]["status"] = "runing"
    doc["items"][1]["run"] = {"startedAtMs": 1.5}
    with open(bad, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    bad_repo = make_repo(os.path.join(work, "repos", "invalid"), env, os.path.join(data, str(sizes[0]), "head.json"), bad)
    for name, build in tools:
        argv, cwd = build(bad, bad_repo)
        _, _, _, code = run_once(argv, cwd, env)
        if code == 0:
            sys.exit(f"sanity: {name} accepted an invalid document: {' '.join(argv)}")

    results = {}  # (size, tool) -> list of (wall, cpu, rss)
    for n in sizes:
        staged = os.path.join(data, str(n), "staged.json")
        repo = make_repo(os.path.join(work, "repos", str(n)), env, os.path.join(data, str(n), "head.json"), staged)
        # Warm-up (page cache, lazy loading), and a correctness check of each tool's verdict.
        for name, build in tools:
            argv, cwd = build(staged, repo)
            _, _, _, code = run_once(argv, cwd, env)
            if code != 0:
                show_failure(argv, cwd, env)
                sys.exit(f"{name} failed on {n} items")
        out = subprocess.run([args.runqlint, "check", "--staged", "--now", NOW, "--format", "json"], cwd=repo,
                             env=env, capture_output=True, text=True)
        summary = json.loads(out.stdout)["summary"]
        print(f"# {n} items: runqlint check --staged finds {summary['errors']} errors, "
              f"{summary['warnings']} warnings", file=sys.stderr)
        for r in range(args.rounds):
            order = tools[r % len(tools):] + tools[:r % len(tools)]  # rotate who goes first
            for name, build in order:
                argv, cwd = build(staged, repo)
                wall, cpu, rss, code = run_once(argv, cwd, env)
                if code != 0:
                    show_failure(argv, cwd, env)
                    sys.exit(f"{name} failed on {n} items")
                results.setdefault((n, name), []).append((wall, cpu, rss))
            print(f"# {n} items: round {r + 1}/{args.rounds} done", file=sys.stderr)

    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v), max(x[2] for x in v))
           for k, v in results.items()}
    print()
    print(f"Median of {args.rounds} alternating rounds; ratios are to jsonschema-cli in the same rounds; "
          "CPU is the median user+sys time; peak RSS is the largest over the rounds"
          + (" (GNU time)." if GNU_TIME else " (rusage of a Python child: never below Python's own RSS)."))
    print()
    print("| items | tool | wall (median) | × jsonschema-cli | CPU user+sys | peak RSS | RSS × jsonschema-cli |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n in sizes:
        ref = med.get((n, "jsonschema-cli"))
        for name, _ in tools:
            wall, cpu, rss = med[(n, name)]
            ratio = f"{wall / ref[0]:.2f}" if ref else "–"
            rratio = f"{rss / ref[2]:.2f}" if ref else "–"
            print(f"| {n:,} | {name} | {fmt_s(wall)} | {ratio} | {fmt_s(cpu)} | {rss / 1024:.0f} MiB | {rratio} |")
    rq = "runqlint check --staged"
    lines = []
    big, small = max(sizes), min(sizes)
    if (big, "jsonschema-cli") in med:
        t = med[(big, rq)][0] / med[(big, "jsonschema-cli")][0]
        m = med[(big, rq)][2] / med[(big, "jsonschema-cli")][2]
        lines.append(f"- check --staged on {big:,} items: {t:.2f}× jsonschema-cli time (target ≤ 0.8: "
                     f"{'met' if t <= 0.8 else 'MISSED'}), {m:.2f}× its peak RSS (target ≤ 1.0: "
                     f"{'met' if m <= 1.0 else 'MISSED'})")
    if (small, "jsonschema-cli") in med:
        t = med[(small, rq)][0] / med[(small, "jsonschema-cli")][0]
        lines.append(f"- check --staged on {small:,} items: {t:.2f}× jsonschema-cli time (target ≤ 1.5: "
                     f"{'met' if t <= 1.5 else 'MISSED'})")
    if (10000 in sizes) and (100000 in sizes):
        s = med[(100000, rq)][0] / med[(10000, rq)][0]
        lines.append(f"- check --staged time(100k) / time(10k) = {s:.1f} (target ≤ 12: {'met' if s <= 12 else 'MISSED'})")

    # Reporting: the largest size with W warnings (stale-running), every output format,
    # next to jsonschema-cli on the same staged file.
    warn_rows = []
    warns = [int(w) for w in args.warn.split(",") if w]
    formats = ["human", "json", "github", "sarif"]
    for w in warns:
        d = os.path.join(data, str(big), f"warn{w}")
        if not os.path.isdir(d):
            print(f"# {d} missing: no warnings rows (regenerate with bench/gen.py --warn)", file=sys.stderr)
            continue
        staged = os.path.join(d, "staged.json")
        repo = make_repo(os.path.join(work, "repos", f"warn{w}"), env, os.path.join(d, "head.json"), staged)
        cases = []
        if args.jsonschema_cli:
            cases.append(("jsonschema-cli", [args.jsonschema_cli, "validate", args.schema, "-i", staged], 0))
        for fmt in formats:
            cases.append((f"runqlint check --staged --format {fmt}",
                          [args.runqlint, "check", "--staged", "--now", NOW, "--format", fmt], 0))
        out = subprocess.run([args.runqlint, "check", "--staged", "--now", NOW, "--format", "json"], cwd=repo,
                             env=env, capture_output=True, text=True)
        summary = json.loads(out.stdout)["summary"]
        if summary != {"errors": 0, "warnings": w}:
            sys.exit(f"warn{w}: expected {w} warnings and no error, runqlint found {summary}")
        for name, argv, _ in cases:  # warm-up
            run_once(argv, repo, env)
        acc = {}
        for r in range(args.rounds):
            order = cases[r % len(cases):] + cases[:r % len(cases)]
            for name, argv, _ in order:
                wall, cpu, rss, code = run_once(argv, repo, env)
                if name.startswith("runqlint") and code != 0:
                    show_failure(argv, repo, env)
                    sys.exit(f"{name} failed on warn{w}")
                acc.setdefault(name, []).append((wall, cpu, rss))
            print(f"# {big} items, {w} warnings: round {r + 1}/{args.rounds} done", file=sys.stderr)
        m = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v), max(x[2] for x in v))
             for k, v in acc.items()}
        ref = m.get("jsonschema-cli")
        for name, _, _ in cases:
            wall, cpu, rss = m[name]
            ratio = f"{wall / ref[0]:.2f}" if ref else "–"
            rratio = f"{rss / ref[2]:.2f}" if ref else "–"
            warn_rows.append(f"| {big:,} | {w} | {name} | {fmt_s(wall)} | {ratio} | {fmt_s(cpu)} | "
                             f"{rss / 1024:.0f} MiB | {rratio} |")
        if ref:
            worst = max(m[f"runqlint check --staged --format {f}"][0] for f in formats) / ref[0]
            human = m["runqlint check --staged --format human"][0] / ref[0]
            rss = max(m[f"runqlint check --staged --format {f}"][2] for f in formats) / ref[2]
            target = " (target ≤ 0.8: " + ("met" if human <= 0.8 else "MISSED") + ")" if w <= 5 else ""
            lines.append(f"- check --staged on {big:,} items with {w} warnings: {human:.2f}× jsonschema-cli time "
                         f"(human){target}, {worst:.2f}× for the slowest format; peak RSS {rss:.2f}× its")

    # The pre-commit path on a small queue: the hook (`runqlint check --staged`, via the
    # installed hook script) next to `git diff --cached --quiet`, which every commit pays.
    hook_line = None
    hd = os.path.join(data, str(args.hook_size))
    if args.hook_size and os.path.isdir(hd):
        repo = make_repo(os.path.join(work, "repos", f"hook-{args.hook_size}"), env, os.path.join(hd, "head.json"),
                         os.path.join(hd, "staged.json"))
        hook = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hooks", "pre-commit")
        henv = dict(env, RUNQLINT=args.runqlint)
        cases = [("git diff --cached --quiet", ["git", "diff", "--cached", "--quiet"]),
                 ("pre-commit hook (runqlint check --staged)", ["sh", hook])]
        for _, argv in cases:
            run_once(argv, repo, henv)
        acc = {}
        for r in range(max(args.rounds, 5) * 4):
            for name, argv in (cases if r % 2 == 0 else cases[::-1]):
                wall, _, _, code = run_once(argv, repo, henv)
                if name.startswith("pre-commit") and code != 0:
                    show_failure(argv, repo, henv)
                    sys.exit("the pre-commit hook refused the benchmark queue")
                acc.setdefault(name, []).append(wall)
        g = statistics.median(acc[cases[0][0]])
        h = statistics.median(acc[cases[1][0]])
        hook_line = (f"- pre-commit hook on {args.hook_size} items: {fmt_s(h)}; `git diff --cached --quiet`: "
                     f"{fmt_s(g)}; {h / g:.2f}× (target ≤ 2: {'met' if h / g <= 2 else 'MISSED'})")
    if hook_line:
        lines.append(hook_line)

    # fix vs check on the stale file, each fix run reset afterwards (outside the timing).
    fix_line = None
    if args.stale and args.fix_size:
        n = args.fix_size
        help_ok = subprocess.run([args.runqlint, "fix", "--help"], env=env, capture_output=True).returncode == 0
        probe = None
        if help_ok:
            repo = make_repo(os.path.join(work, "repos", f"fix-{n}"), env, os.path.join(data, str(n), "fix.json"))
            head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True,
                                  text=True).stdout.strip()
            fix_argv = [args.runqlint, "fix", "--now", NOW, "--run-id", "bench"]
            check_argv = [args.runqlint, "check", "--now", NOW]

            def reset():
                git(repo, env, "reset", "-q", "--hard", head)
                for name in os.listdir(repo):
                    if name.startswith("run_queue.backup."):
                        os.remove(os.path.join(repo, name))

            wall, _, _, code = run_once(fix_argv, repo, env)
            moved = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True,
                                   text=True).stdout.strip() != head
            if code != 0 or not moved:
                show_failure(fix_argv, repo, env)
                probe = f"fix: ran but did not commit the repair (exit {code}); not measured"
            reset()
            if probe is None:
                fr, cr = [], []
                for r in range(args.rounds):
                    pair = [("check", check_argv, cr), ("fix", fix_argv, fr)]
                    for name, argv, acc in (pair if r % 2 == 0 else pair[::-1]):
                        w, c, m, code = run_once(argv, repo, env)
                        if name == "fix":
                            reset()
                        acc.append((w, c, m))
                fw, cw = statistics.median(x[0] for x in fr), statistics.median(x[0] for x in cr)
                fc, cc = statistics.median(x[1] for x in fr), statistics.median(x[1] for x in cr)
                fm, cm = max(x[2] for x in fr), max(x[2] for x in cr)
                verdict = lambda ratio, target: "met" if ratio <= target else "MISSED"
                fix_line = (f"- fix on {n:,} items with {args.stale} stale (backup, write, commit): {fmt_s(fw)} wall, "
                            f"{fmt_s(fc)} CPU, peak RSS {fm / 1024:.0f} MiB; check on the same file: {fmt_s(cw)} wall, "
                            f"{fmt_s(cc)} CPU, {cm / 1024:.0f} MiB; fix/check = {fw / cw:.2f} wall (target ≤ 3: "
                            f"{verdict(fw / cw, 3)}), {fc / cc:.2f} CPU ({verdict(fc / cc, 3)}), "
                            f"{fm / cm:.2f} peak RSS (target ≤ 2: {verdict(fm / cm, 2)})")
        fix_line = fix_line or probe or "- fix: not available in this build"
        lines.append(fix_line)
    if warn_rows:
        print()
        print("With warnings (`stale-running`), every output format, next to jsonschema-cli on the same "
              "staged file:")
        print()
        print("| items | warnings | tool | wall (median) | × jsonschema-cli | CPU user+sys | peak RSS | "
              "RSS × jsonschema-cli |")
        print("|---:|---:|---|---:|---:|---:|---:|---:|")
        print("\n".join(warn_rows))
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
