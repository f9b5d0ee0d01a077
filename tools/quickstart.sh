#!/usr/bin/env bash
# README command (1): install what is missing, build, run the main job on built-in defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
./build/tools/lpsim compare
