# Sourced by the scripts that run this repository's pre-commit hooks end to end
# (check-pypi.sh, ci-pre-commit-rust.sh, bench/hook-install.sh): one way to isolate git and to
# make the scratch repositories they need. POSIX sh; copies with Python (3.9+), not GNU cp.

# isolate_git DIR: git reads only DIR/gitconfig (a pinned identity), no system config, and
# none of a surrounding hook's repository variables.
isolate_git() {
    export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$1/gitconfig"
    unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE RUNQLINT || true
    cat >"$GIT_CONFIG_GLOBAL" <<'CONFIG'
[user]
	name = Runq Tester
	email = tester@example.invalid
[commit]
	gpgsign = false
[core]
	autocrlf = false
[init]
	defaultBranch = main
CONFIG
}

# hook_repo ROOT DEST: this checkout's files as they are now (tracked and new, not ignored),
# committed in a new repository at DEST, so uncommitted work is what the hook installs.
# Prints the commit.
hook_repo() {
    mkdir -p "$2"
    (cd "$1" && git ls-files -z --cached --others --exclude-standard) >"$2.files"
    "${PYTHON:-python3}" - "$1" "$2" "$2.files" <<'PY'
import os, shutil, sys
root, dest, listing = sys.argv[1:4]
for rel in open(listing, "rb").read().decode().split("\0"):
    src = os.path.join(root, rel)
    if rel and os.path.lexists(src):
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel), follow_symlinks=False)
PY
    rm -f "$2.files"
    git -C "$2" init -q
    git -C "$2" add -A
    git -C "$2" commit -q -m "runqlint as checked out"
    git -C "$2" rev-parse HEAD
}

# queue_repo DIR HOOKS REV ID: a repository at DIR whose .pre-commit-config.yaml runs hook ID
# of HOOKS at REV, with a committed queue (a done item and a queued one); the shell is left
# in DIR.
queue_repo() {
    mkdir -p "$1"
    cd "$1"
    git init -q
    cat >.pre-commit-config.yaml <<YAML
repos:
  - repo: $2
    rev: $3
    hooks:
      - id: $4
YAML
    cat >run_queue.json <<'JSON'
{"items": [
  {"id": "run_a", "status": "done", "run": {"startedAtMs": 1772064000000, "finishedAtMs": 1772064001000}},
  {"id": "run_b", "status": "queued"}
]}
JSON
    git add -A
    git commit -q -m base
}
