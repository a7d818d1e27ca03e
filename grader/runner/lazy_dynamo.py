"""torch._dynamo, imported only when something is compiled.

torch.optim imports torch._dynamo the first time an optimizer is made or stepped, though
nothing compiles: `torch._disable_dynamo` wraps Optimizer methods with `torch._dynamo.disable`
on first call, and every `step()` calls `torch._dynamo.graph_break()`. The import (sympy and
more) costs about 1 CPU-second and 70 MiB in each process that trains: the sandbox's warm
process, a cold `.py` run, the grader's own reference runs.

`defer()` puts a stand-in module in its place. Outside a compiled region both calls do nothing
(graph_break's body is empty; disable runs the function with no compiler to turn off), and no
region can be compiled before torch._dynamo itself is loaded, so until then the stand-in
answers those two calls itself. Anything else asked of it (an attribute, `dir`, a submodule
such as `import torch._dynamo.config`) first runs the real package in place, in the same module
object, after which it is the real torch._dynamo. A student who compiles gets torch's own
behaviour, one second later.

This file runs on both sides of the trust boundary (the sandbox's zygote and harness load it by
path, the grader imports it) and imports nothing from the grader. It decides nothing: undone, it
only costs time.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from typing import Any, Callable

NAME = "torch._dynamo"
# What the import system set (as for the real import) and reads, or a scan of sys.modules does
# (ipykernel lists every module's __file__): answered without running the package.
_KEPT = frozenset({"__class__", "__dict__", "__name__", "__path__", "__spec__", "__file__", "__cached__", "__loader__",
                   "__package__"})
_lock = threading.RLock()


def defer() -> bool:
    """Put the stand-in in place (after `import torch`); False if torch._dynamo is already there."""
    import torch

    if NAME in sys.modules or "_dynamo" in vars(torch):
        return False
    spec = importlib.util.find_spec(NAME)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return False
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _Deferred
    sys.meta_path.insert(0, _finder)
    sys.modules[NAME] = module
    torch._dynamo = module  # (else torch's lazy __getattr__ imports it)
    return True


def loaded() -> bool:
    """Whether the real torch._dynamo has run in this process."""
    return NAME in sys.modules and type(sys.modules[NAME]) is not _Deferred


class _Deferred(types.ModuleType):
    def __getattribute__(self, name: str) -> Any:
        if name in _KEPT:
            return object.__getattribute__(self, name)
        if name == "graph_break":
            return _graph_break
        if name == "disable":
            return _disable
        return getattr(_load(self), name)

    def __dir__(self) -> list[str]:
        return dir(_load(self))


def _load(module: types.ModuleType) -> types.ModuleType:
    """Run the real torch._dynamo in `module`, once."""
    with _lock:
        if type(module) is not _Deferred:
            return module
        object.__setattr__(module, "__class__", types.ModuleType)
        spec = module.__spec__
        assert spec is not None and spec.loader is not None
        spec._initializing = True  # type: ignore[attr-defined]  # (as the import system marks a module it runs)
        try:
            spec.loader.exec_module(module)
        except BaseException:  # as a failed import: gone, so that the next import tries again
            if sys.modules.get(NAME) is module:
                del sys.modules[NAME]
            torch = sys.modules.get("torch")
            if torch is not None and vars(torch).get("_dynamo") is module:
                delattr(torch, "_dynamo")
            raise
        finally:
            spec._initializing = False  # type: ignore[attr-defined]
            if _finder in sys.meta_path:
                sys.meta_path.remove(_finder)
    return module


def _real() -> types.ModuleType | None:
    module = sys.modules.get(NAME)
    return module if module is not None and type(module) is not _Deferred else None


def _graph_break(msg: str = "") -> None:
    real = _real()
    if real is not None:  # (a caller that kept the stand-in from before the load)
        real.graph_break(msg)


def _disable(fn: Callable[..., Any] | None = None, recursive: bool = True, *, reason: str | None = None,
             wrapping: bool = True) -> Any:
    if fn is None or reason is not None or wrapping:  # not torch's own use: the real one
        module = sys.modules.get(NAME)
        real = _load(module) if module is not None else importlib.import_module(NAME)
        return real.disable(fn, recursive, reason=reason, wrapping=wrapping)
    # torch._disable_dynamo's own call: a function that decides at each call, since it is kept.
    disabled: Callable[..., Any] | None = None

    def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal disabled
        if disabled is None:
            real = _real()
            if real is None:  # nothing can be compiling
                return fn(*args, **kwargs)
            disabled = real.disable(fn, recursive, wrapping=False)
        return disabled(*args, **kwargs)

    return call


class _Existing(importlib.abc.Loader):
    """Hands the import system a submodule the real package's own import already ran.

    The import system then asks the module itself for its spec ("the parent import may have
    already imported this module") and would run its loader again: until this loader's
    exec_module, the module's spec is this loader's, and then its own again."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.own = module.__spec__
        self.spec = importlib.util.spec_from_loader(module.__name__, self)
        module.__spec__ = self.spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self.own


class _Finder(importlib.abc.MetaPathFinder):
    """`import torch._dynamo.x` while the stand-in is in place: load the package first."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        module = sys.modules.get(NAME)
        if not fullname.startswith(NAME + ".") or type(module) is not _Deferred:
            return None
        _load(module)
        existing = sys.modules.get(fullname)
        return _Existing(existing).spec if existing is not None else None


_finder = _Finder()
