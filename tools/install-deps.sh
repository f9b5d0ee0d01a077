#!/usr/bin/env bash
# Installs the Debian 12 packages lpsim builds and runs with (run as root).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libsystemc-dev libboost-graph-dev catch2 libbenchmark-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  libopenblas-dev dataset-fashion-mnist gnuplot-nox
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer targets (CI runs them briefly)
  libopenmpi-dev openmpi-bin
  pybind11-dev python3-dev  # the Python module (python/, docs/python.md)
  python3-torch  # the PyTorch recorder's tests (python/lpsim/torch.py; skipped without it)
  python3-torchvision  # the ONNX reader's tests export whole networks at test time (python3-torch too)
  libonnx-dev libprotobuf-dev  # `lpsim import` (models/onnx/, docs/models.md "ONNX import")
  libonnx-testdata  # the ONNX reader's tests: ONNX's own single-op and PyTorch test models
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "lpsim: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
