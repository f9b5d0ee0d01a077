#!/usr/bin/env python3
"""Golden-output check of the lpsim command line (issue 13's acceptance line:
every command prints byte-identical output before and after the library move).

Runs each case of cases.txt in order, in one scratch folder, and compares what
it printed (stdout, stderr, exit code) and the text files it wrote with
expected/<name>.txt. Usage:
    check.py LPSIM_BINARY SOURCE_DIR [--update] [--only NAME]
Exit 0 when every case matches; otherwise the first lines of each difference.
"""
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT_SUFFIXES = (".csv", ".json", ".html", ".lpt", ".yaml", ".gp", ".txt")
# Measured wall-clock times are the one thing a rerun may change: their
# values are masked (JSON keys of docs/trace-format.md and docs/explore.md).
WALL_CLOCK = re.compile(r'("(?:wall_s|elapsed_s)": ?)[0-9.eE+-]+')


def read_cases():
    cases = []
    with open(os.path.join(HERE, "cases.txt"), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, args = line.partition("|")
            if not sep:
                sys.exit(f"cases.txt:{number}: expected 'name | arguments'")
            cases.append((name.strip(), args.strip()))
    return cases


def snapshot(folder):
    """Path -> modification stamp and size of every file under folder."""
    seen = {}
    for root, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(root, f)
            st = os.stat(p)
            seen[os.path.relpath(p, folder)] = (st.st_mtime_ns, st.st_size)
    return seen


def run_case(binary, src, scratch, args):
    argv = [binary] + [a.replace("{src}", src) for a in shlex.split(args)]
    before = snapshot(scratch)
    env = dict(os.environ, OMP_NUM_THREADS="1", LC_ALL="C")
    p = subprocess.run(argv, cwd=scratch, capture_output=True, env=env, timeout=600)
    after = snapshot(scratch)
    out = [f"$ lpsim {args}", "--- stdout", p.stdout.decode("utf-8", "replace"),
           "--- stderr", p.stderr.decode("utf-8", "replace"), f"--- exit {p.returncode}"]
    for rel in sorted(after):
        if after[rel] == before.get(rel) or not rel.endswith(TEXT_SUFFIXES):
            continue
        with open(os.path.join(scratch, rel), "rb") as f:
            out += [f"--- file {rel}", f.read().decode("utf-8", "replace")]
    text = WALL_CLOCK.sub(r"\1<seconds>", "\n".join(out))
    return text.replace(src, "{src}").replace(scratch, "{scratch}")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    update = "--update" in sys.argv
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    expected_dir = os.path.join(HERE, "expected")
    os.makedirs(expected_dir, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="lpsim-golden-") as scratch:
        for name, args in read_cases():
            got = run_case(binary, src, scratch, args)
            path = os.path.join(expected_dir, name + ".txt")
            if only and name != only:
                continue
            if update:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(got)
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    want = f.read()
            except FileNotFoundError:
                want = ""
            if got != want:
                failures += 1
                diff = difflib.unified_diff(want.splitlines(), got.splitlines(),
                                            f"expected/{name}.txt", "now", lineterm="", n=1)
                print(f"golden case '{name}' differs:")
                print("\n".join(list(diff)[:40]))
    if failures:
        print(f"{failures} golden case(s) differ; if the change is intended, rerun with --update")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
