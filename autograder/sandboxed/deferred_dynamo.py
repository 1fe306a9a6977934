"""`torch._dynamo` imported only when something needs more of it than "do not compile this function".

PyTorch routes some operations on the `meta` device (the students' device-placement checks), and each
`torch.optim` step, through functions wrapped by `torch._disable_dynamo`. On its first call such a wrapper
imports `torch._dynamo` (sympy, torch.distributed, the tracer: about 1.1 s of CPU) only to ask
`torch._dynamo.disable(fn)` for a version of `fn` that the compiler will not trace. Outside a compilation
that version does exactly what `fn` does.

`install()` puts a module in `sys.modules["torch._dynamo"]` that answers `disable` itself and becomes the real
`torch._dynamo` (the package's own code run in that same module object) the first time anything else is asked
of it: another attribute, or a submodule import (`torch.compile`, `torch.optim`'s graph breaks). What `disable`
handed out before that hands over to the real `disable` from then on, so a compilation started later still
skips those functions. The zygote installs it once; every child it forks inherits it.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
import types

NAME = "torch._dynamo"


class _DeferredDynamo(types.ModuleType):
    """`torch._dynamo` before its code has run: `disable` is answered here, anything else runs the package."""

    def __getattr__(self, attribute):  # only for what the module does not hold yet
        if attribute.startswith("__") and attribute.endswith("__") and attribute != "__all__":
            raise AttributeError(attribute)  # copy, pickle, inspect probing: no reason to import the tracer
        _complete(self)
        return getattr(self, attribute)


def _stand_in_disable(module: types.ModuleType):
    def disable(fn=None, recursive=True, **options):
        """`torch._dynamo.disable`'s signature: `fn` itself while nothing compiles; the real answer once loaded."""
        if fn is None:
            return functools.partial(disable, recursive=recursive, **options)
        real = None

        @functools.wraps(fn)
        def call(*args, **kwargs):
            nonlocal real
            if isinstance(module, _DeferredDynamo):  # the tracer was never imported: nothing can be tracing
                return fn(*args, **kwargs)
            if real is None:
                real = module.disable(fn, recursive, **options)
            return real(*args, **kwargs)

        return call

    return disable


class _SubmoduleFinder(importlib.abc.MetaPathFinder):
    """Runs the package before any of its submodules is imported, as a normal import of the submodule would."""

    def find_spec(self, name, path=None, target=None):
        module = sys.modules.get(NAME)
        if name.startswith(NAME + ".") and isinstance(module, _DeferredDynamo):
            _complete(module)
            if name in sys.modules:  # the package imported it: hand back that module, never run it twice
                return importlib.machinery.ModuleSpec(name, _Imported(sys.modules[name]))
        return None


class _Imported(importlib.abc.Loader):
    """A loader for a module that is already imported: the import system gets it back unchanged."""

    def __init__(self, module):
        self.module, self.spec = module, module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.spec  # the import system stamped its own spec on it


def _complete(module: _DeferredDynamo) -> None:
    """Run the real package's code in `module` (the object everyone already holds)."""
    module.__class__ = types.ModuleType
    del module.disable  # the package defines the real one
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _SubmoduleFinder)]
    module.__spec__.loader.exec_module(module)


def install() -> bool:
    """Defer `torch._dynamo` in this process (PyTorch imported, `torch._dynamo` not yet); whether it was deferred."""
    torch = sys.modules.get("torch")
    if torch is None or NAME in sys.modules:
        return False
    spec = importlib.machinery.PathFinder.find_spec(NAME, torch.__path__)
    if spec is None or spec.loader is None:
        return False
    module = _DeferredDynamo(NAME)
    module.__spec__, module.__loader__, module.__package__ = spec, spec.loader, NAME
    module.__file__, module.__path__ = spec.origin, list(spec.submodule_search_locations or ())
    module.disable = _stand_in_disable(module)
    sys.meta_path.insert(0, _SubmoduleFinder())
    sys.modules[NAME] = module
    torch._dynamo = module
    return True
