#!/usr/bin/env bash
# Configures and builds lpsim (Release) into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
