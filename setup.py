"""Builds lpsim's Python extension with CMake, then lets setuptools package
build/python/lpsim (pyproject.toml). `pip install -e .` in a venv; see
docs/python.md for why Debian's system python3 needs PYTHONPATH instead."""

import os
import subprocess

from setuptools import setup
from setuptools.dist import Distribution

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(ROOT, "build")


def build_extension():
    # The release preset's build folder; configured once, then incremental.
    if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")):
        subprocess.check_call(["cmake", "--preset", "release"], cwd=ROOT)
    subprocess.check_call(["cmake", "--build", BUILD, "--target", "lpsim_python", "-j",
                           os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))])
    if not os.path.isdir(os.path.join(BUILD, "python", "lpsim")):
        raise SystemExit("lpsim: CMake did not build the Python module: is pybind11 installed? "
                         "(apt-get install pybind11-dev python3-dev)")


class BinaryDistribution(Distribution):
    def has_ext_modules(self):  # the package holds a compiled extension: a platform wheel
        return True


build_extension()
setup(distclass=BinaryDistribution)
