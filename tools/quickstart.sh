#!/usr/bin/env bash
# README command (1): install what is missing, build, and run the main job on
# built-in defaults: `lpsim compare` (docs/user-guide.md), which prints the
# comparison table and writes its report (plots, index.html) to build/report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
./build/tools/lpsim compare --report build/report
