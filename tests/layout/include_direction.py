#!/usr/bin/env python3
"""The build enforces the direction of dependencies (docs/layout.md,
cmake/Layout.cmake). Two checks:

1. Every compile command of lpsim's own code (build/compile_commands.json)
   searches exactly one include view, the one of the source's folder, and
   never the source root or another folder's view.
2. Through each layer's view, a header of every folder the layer may use is
   found, and a header of every other folder is not: the preprocessor fails
   with "No such file" naming it. So a wrong include fails to compile.

Usage: include_direction.py CXX SOURCE_DIR BINARY_DIR
"""
import json
import os
import re
import subprocess
import sys


def layers_of(source_dir):
    text = open(os.path.join(source_dir, "cmake", "Layout.cmake"), encoding="utf-8").read()
    uses = {m.group(1): m.group(2).split() for m in re.finditer(r"set\(LPSIM_USES_(\w+) ([^)]*)\)", text)}
    if not uses:
        sys.exit("cmake/Layout.cmake: no LPSIM_USES_<layer> lines")
    return uses


def first_header(source_dir, folder):
    for name in sorted(os.listdir(os.path.join(source_dir, folder))):
        if name.endswith(".h"):
            return f"{folder}/{name}"
    return None


def check_compile_commands(source_dir, binary_dir, uses, failures):
    views = os.path.join(binary_dir, "include_views")
    commands = json.load(open(os.path.join(binary_dir, "compile_commands.json"), encoding="utf-8"))
    checked = 0
    for c in commands:
        rel = os.path.relpath(c["file"], source_dir)
        layer = rel.split(os.sep)[0]
        if layer not in uses:
            continue  # tests, benchmarks and fuzz targets may use every folder
        args = c.get("command", "")
        includes = re.findall(r"(?:^|\s)-I\s*(\S+)", args)
        own = [i for i in includes if os.path.abspath(i).startswith(os.path.abspath(views) + os.sep)]
        if [os.path.basename(os.path.abspath(i)) for i in own] != [layer]:
            failures.append(f"{rel}: include views {own}, expected only {views}/{layer}")
        if any(os.path.abspath(i) == os.path.abspath(source_dir) for i in includes):
            failures.append(f"{rel}: the source root is on its include path")
        checked += 1
    if checked == 0:
        failures.append("compile_commands.json lists no source of lpsim's folders")
    return checked


def check_views(cxx, source_dir, binary_dir, uses, failures):
    folders = [f for f in uses if first_header(source_dir, f)]
    probes = 0
    for layer, allowed in uses.items():
        view = os.path.join(binary_dir, "include_views", layer)
        for folder in folders:
            header = first_header(source_dir, folder)
            p = subprocess.run([cxx, "-std=c++20", "-DSC_CPLUSPLUS=201703L", "-E", "-x", "c++", "-",
                                "-o", os.devnull, "-I", view],
                               input=f'#include "{header}"\n', capture_output=True, text=True,
                               cwd=binary_dir)
            probes += 1
            if folder in allowed and p.returncode != 0:
                failures.append(f"{layer} may use {folder}, but {header} is not found: "
                                f"{p.stderr.strip().splitlines()[0] if p.stderr.strip() else ''}")
            if folder not in allowed and (p.returncode == 0 or "No such file" not in p.stderr
                                          or header not in p.stderr):
                failures.append(f"{layer} may not use {folder}, yet {header} is found "
                                f"(exit {p.returncode})")
    return probes


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    cxx, source_dir, binary_dir = sys.argv[1:]
    uses = layers_of(source_dir)
    failures = []
    n = check_compile_commands(source_dir, binary_dir, uses, failures)
    p = check_views(cxx, source_dir, binary_dir, uses, failures)
    for f in failures:
        print(f)
    print(f"{n} compile commands and {p} include probes checked; {len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
