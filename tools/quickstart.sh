#!/usr/bin/env bash
# README command (1): install what is missing, build lpsim, and run the main
# job on built-in defaults: `lpsim compare` (docs/user-guide.md), which prints
# the comparison table and writes its report (plots, index.html) to build/report.
# Only the lpsim binary is built here (same preset as tools/build.sh); the tests
# and benchmarks are left to README command (2), tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target lpsim
./build/tools/lpsim compare --report build/report
