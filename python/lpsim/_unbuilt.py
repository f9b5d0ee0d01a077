"""Stand-ins for the compiled module _lpsim where it is not built, so that
`import lpsim` and the pure-Python recorder (lpsim.torch) work without it;
anything that needs the module raises ImportError saying how to build it."""


class InputError(ValueError):
    """Bad input: the one-line message names the thing and the allowed range."""


class Unbuilt:
    """Takes _lpsim's place: any function of it raises ImportError."""

    def __init__(self, error):
        self._why = (f"lpsim's compiled module _lpsim is not available ({error}): build it with "
                     f"`cmake --build build --target lpsim_python` and put build/python on "
                     f"PYTHONPATH (docs/python.md)")

    def __getattr__(self, name):
        raise ImportError(self._why)


class _NeedsModule:
    def __init__(self, *args, **kwargs):
        raise ImportError(f"lpsim.{type(self).__name__} needs lpsim's compiled module _lpsim "
                          f"(docs/python.md, Install)")


class Arch(_NeedsModule):
    pass


class CostCache(_NeedsModule):
    pass


class Graph(_NeedsModule):
    pass


class Trace(_NeedsModule):
    pass
