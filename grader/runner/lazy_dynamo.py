"""torch._dynamo, imported only when something is compiled.

torch.optim imports torch._dynamo the first time an optimizer is made or stepped, though
nothing compiles: `torch._disable_dynamo` wraps Optimizer methods with `torch._dynamo.disable`
on first call, and every `step()` calls `torch._dynamo.graph_break()`. The import (sympy and
more) costs about 1 CPU-second and 70 MiB in each process that trains: the sandbox's warm
process, a cold `.py` run, the grader's own reference runs.

`defer()` puts a stand-in module in its place. Outside a compiled region both calls do nothing
(graph_break's body is empty; disable runs the function with no compiler to turn off), and no
region can be compiled before torch._dynamo itself is loaded, so until then the stand-in
answers those two calls itself. Anything else asked of it (an attribute, setting one, `dir`, a
submodule such as `import torch._dynamo.config`) first runs the real package in place, in the
same module object, after which it is the real torch._dynamo, and the functions torch wrapped
meanwhile are wrapped again by the real `disable`. A student who compiles gets torch's own
behaviour, one second later. Other threads wait for the load as for any import; the load runs
outside the import system's global lock.

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
from typing import Any, Callable, cast

NAME = "torch._dynamo"
# What the import system set (as for the real import) and reads, or a scan of sys.modules does
# (ipykernel lists every module's __file__): answered without running the package.
_KEPT = frozenset({"__class__", "__dict__", "__name__", "__path__", "__spec__", "__file__", "__cached__", "__loader__",
                   "__package__"})
_lock = threading.RLock()  # held while the real package runs
_loading: list[int] = []  # the thread running it: its own reads pass through, as in any module being imported
_wrapped: list[Callable[..., Any]] = []  # functions torch._disable_dynamo cached as themselves meanwhile


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
        if name in _KEPT or _loading == [threading.get_ident()]:
            return types.ModuleType.__getattribute__(self, name)
        if name == "graph_break":
            return _graph_break
        if name == "disable":
            return _disable
        return getattr(_load(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if _loading != [threading.get_ident()]:
            _load(self)
        types.ModuleType.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if _loading != [threading.get_ident()]:
            _load(self)
        types.ModuleType.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return dir(_load(self))


def _load(module: types.ModuleType) -> types.ModuleType:
    """Run the real torch._dynamo in `module`, once; the stand-in until it has run."""
    with _lock:
        if type(module) is not _Deferred or _loading:  # (or this thread is running it: as far as it goes)
            return module
        spec = module.__spec__
        assert spec is not None and spec.loader is not None
        spec._initializing = True  # type: ignore[attr-defined]  # (as the import system marks a module it runs)
        _loading.append(threading.get_ident())
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
            _loading.clear()
            spec._initializing = False  # type: ignore[attr-defined]
            object.__setattr__(module, "__class__", types.ModuleType)
            if _finder in sys.meta_path:
                sys.meta_path.remove(_finder)
        for fn in _wrapped:  # let torch._disable_dynamo wrap them again, with the real disable
            kept = getattr(fn, "__dict__", {})
            if kept.get("__dynamo_disable") is fn:
                del kept["__dynamo_disable"]
        _wrapped.clear()
    return module


def _graph_break(msg: str = "") -> None:
    """Force a graph break"""  # (torch's own words: a student may read them)
    if loaded():  # (a caller that kept this from before the load)
        _real("graph_break")(msg)


def _disable(fn: Callable[..., Any] | None = None, recursive: bool = True, *, reason: str | None = None,
             wrapping: bool = True) -> Any:
    if fn is not None and reason is None and not wrapping:
        # torch._disable_dynamo's own call, whose answer it keeps on fn: fn itself until the load.
        with _lock:
            if not loaded():
                _wrapped.append(fn)
                return fn
    return _real("disable")(fn, recursive, reason=reason, wrapping=wrapping)


def _real(name: str) -> Callable[..., Any]:
    """The real package's function `name` (loaded first), not this stand-in put back into it (as
    `mock.patch.object` puts back what it found)."""
    module = sys.modules.get(NAME)
    function = getattr(_load(module) if module is not None else importlib.import_module(NAME), name)
    if function in (_graph_break, _disable):
        function = getattr(importlib.import_module(NAME + ".decorators"), name)
    return cast(Callable[..., Any], function)


# Named as torch's, for whoever looks (help(), a repr); a traceback still shows this file.
for _stand_in, _name in ((_graph_break, "graph_break"), (_disable, "disable")):
    _stand_in.__name__ = _stand_in.__qualname__ = _name
    _stand_in.__module__ = NAME + ".decorators"


class _Submodule(importlib.abc.Loader):
    """`import torch._dynamo.x` while the stand-in is in place: the package runs first (here, outside
    the import system's global lock), then x is the module its run made, or made now as usual."""

    def __init__(self) -> None:
        self.made: dict[str, tuple[importlib.machinery.ModuleSpec, bool]] = {}  # name: its own spec, made now

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        _load(sys.modules[NAME])
        module = sys.modules.get(spec.name)
        made = module is None
        if module is None:
            own = importlib.util.find_spec(spec.name)
            if own is None:
                raise ModuleNotFoundError(f"No module named {spec.name!r}", name=spec.name)
            module = importlib.util.module_from_spec(own)
        assert module.__spec__ is not None
        self.made[spec.name] = (module.__spec__, made)  # (the import system then sets ours, if it can)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        own, made = self.made.pop(module.__name__)
        vars(module)["__spec__"] = own
        if made:  # (marked as the import system marks a module it runs: other threads wait for it)
            assert own.loader is not None
            own._initializing = True  # type: ignore[attr-defined]
            try:
                own.loader.exec_module(module)
            finally:
                own._initializing = False  # type: ignore[attr-defined]


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if (not fullname.startswith(NAME + ".") or type(sys.modules.get(NAME)) is not _Deferred
                or _loading == [threading.get_ident()]):  # (the package's own imports, as usual)
            return None
        return importlib.util.spec_from_loader(fullname, _submodule)


_submodule = _Submodule()
_finder = _Finder()
