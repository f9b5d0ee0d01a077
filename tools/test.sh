#!/usr/bin/env bash
# README command (2): build and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
ctest --preset release
