"""The student side of the trust boundary: call the student's functions, write plain values.

This file runs INSIDE the student's process (a notebook's kernel, or `python -s -P` for a
.py file) and imports nothing from the grader. It is not trusted: a submission can
patch anything here. That is fine because it decides nothing. All it does is call
student functions on the inputs the grader chose and write what came back as JSON
(data that cannot run code when read). Checks, expected values and scores stay in
the grader's process.

Each function's probes run in a forked child, so a function that hangs (even
ignoring SIGTERM) is killed after its time limit and the other functions are still
probed. Everything goes to the grader as JSON lines through one FIFO (the result
channel): the child sends one `answer` per probe, the parent a `start` and a `status`
per function. The grader keeps its own clock on all of it (grader/runner/watch.py).
"""

from __future__ import annotations

import io
import json
import math
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

PROTOCOL = 1
MAX_ITEMS = 100_000  # elements per encoded tensor or list
MAX_LOG_BYTES = 16 * 1024 * 1024  # what one function may print, at most


class ProbeError(Exception):
    """The student's code did not give something a probe can use."""


def encode(value: Any, depth: int = 0) -> Any:
    """Plain JSON data for `value`; tensors only if they are exactly torch.Tensor."""
    import torch

    if depth > 20:
        return {"unsupported": "nesting too deep"}
    kind = type(value)
    if kind is torch.Tensor or kind is torch.nn.Parameter:
        if value.numel() > MAX_ITEMS:
            return {"unsupported": f"tensor with {value.numel()} elements"}
        flat = value.detach().to("cpu").reshape(-1)
        return {
            "tensor": {
                "dtype": str(value.dtype).replace("torch.", ""),
                "shape": list(value.shape),
                "data": [_plain_number(v) for v in flat.tolist()],
                "requires_grad": bool(value.requires_grad),
                "has_grad_fn": value.grad_fn is not None,
            }
        }
    if isinstance(value, torch.Tensor):
        return {"unsupported": f"tensor subclass {kind.__qualname__}"}
    if kind is bool or value is None:
        return value
    if kind is int or kind is float:
        return _plain_number(value)
    if kind is list or kind is tuple:
        if len(value) > MAX_ITEMS:
            return {"unsupported": f"{kind.__name__} of {len(value)} items"}
        return {"list": [encode(v, depth + 1) for v in value], "type": kind.__name__}
    return {"unsupported": f"{kind.__module__}.{kind.__qualname__}"}


def _plain_number(v: Any) -> Any:
    if type(v) is bool or type(v) is int:
        return v
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def decode(value: Any) -> Any:
    """Probe arguments from the grader: tensors, numbers, lists."""
    import torch

    if isinstance(value, dict) and "tensor" in value:
        t = value["tensor"]
        dtype = getattr(torch, t.get("dtype", "float32"))
        tensor = torch.tensor(t["data"], dtype=dtype).reshape(t["shape"])
        return tensor.requires_grad_(bool(t.get("requires_grad", False)))
    if isinstance(value, dict) and "list" in value:
        return [decode(v) for v in value["list"]]
    return value


# --- recipes: how a probe calls the student's code -------------------------------------


def recipe_call(fn: Callable[..., Any], spec: dict[str, Any]) -> Any:
    """Call; send back the value and the arguments as they are afterwards (did the call change them?)."""
    args = [decode(a) for a in spec.get("args", [])]
    kwargs = {k: decode(v) for k, v in spec.get("kwargs", {}).items()}
    value = encode(fn(*args, **kwargs))
    return {"value": value, "args_after": [encode(a) for a in args]}


def recipe_call_backward(fn: Callable[..., Any], spec: dict[str, Any]) -> Any:
    """Call, then backpropagate from the (scalar) result, or from the sum of its elements with
    `"sum": true`: does autograd flow through it?"""
    import torch

    args = [decode(a) for a in spec.get("args", [])]
    out = fn(*args)
    result: dict[str, Any] = {"value": encode(out), "grads": None}
    if type(out) is torch.Tensor and out.grad_fn is not None and (out.numel() == 1 or spec.get("sum") is True):
        out.sum().backward()
        result["grads"] = [
            encode(a.grad) if isinstance(a, torch.Tensor) and a.grad is not None else None
            for a in args
        ]
    return result


def recipe_steps(fn: Callable[..., Any], spec: dict[str, Any]) -> Any:
    """Call fn(x, y, *params, optimizer) several times with one torch.optim.SGD."""
    import torch

    x, y = decode(spec["x"]), decode(spec["y"])
    params = [decode(p).detach().clone().requires_grad_(True) for p in spec["params"]]
    optimizer = torch.optim.SGD(params, lr=spec["lr"])
    returns, after = [], []
    for _ in range(int(spec["steps"])):
        returns.append(encode(fn(x, y, *params, optimizer)))
        after.append([encode(p) for p in params])
    return {"returns": returns, "params": after}


def recipe_module(cls: Callable[..., Any], spec: dict[str, Any]) -> Any:
    """Seed, build the student's nn.Module, describe it, run it, train it a few steps."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(int(spec["seed"]))
    model = cls()
    if not isinstance(model, torch.nn.Module):
        raise ProbeError(f"{type(model).__qualname__} is not an nn.Module")
    linear = getattr(model, "linear", None)
    structure = {
        "module_type": type(model).__qualname__,
        "linear_type": None if linear is None else f"{type(linear).__module__}.{type(linear).__qualname__}",
        "linear_is_nn_linear": type(linear) is torch.nn.Linear,
        "linear_features": [getattr(linear, "in_features", None), getattr(linear, "out_features", None)],
        "parameters": [[name, list(p.shape)] for name, p in model.named_parameters()],
    }
    x = decode(spec["x"])
    output = model(x)
    result: dict[str, Any] = {"structure": structure, "output": encode(output), "trained": None,
                              "linear_output": encode(linear(x)) if isinstance(linear, torch.nn.Module) else None}
    if spec.get("train_steps"):
        y = decode(spec["y"])
        optimizer = torch.optim.SGD(model.parameters(), lr=spec["lr"])
        for _ in range(int(spec["train_steps"])):
            optimizer.zero_grad()
            F.mse_loss(model(x), y).backward()
            optimizer.step()
        with torch.no_grad():
            result["trained"] = encode(model(x))
    return result


RECIPES: dict[str, Callable[[Callable[..., Any], dict[str, Any]], Any]] = {
    "call": recipe_call,
    "call_backward": recipe_call_backward,
    "steps": recipe_steps,
    "module": recipe_module,
}


# --- running probes, each in a child process -------------------------------------------


class _Channel:
    """The write end of the grader's FIFO: one JSON object per line."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)

    def send(self, message: dict[str, Any], fresh_line: bool = False) -> None:
        # A child killed mid-line leaves half a line behind: the parent's messages start
        # on a fresh line so that only the broken one is lost.
        data = (b"\n" if fresh_line else b"") + json.dumps(message).encode("utf-8") + b"\n"
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


def _call(probe: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    fn = namespace.get(probe["function"])
    if fn is None:
        return {"outcome": "missing"}
    try:
        return {"outcome": "ok", "result": RECIPES[probe["recipe"]](fn, probe)}
    except BaseException as exc:  # the student's code raised: report it
        return {
            "outcome": "raised",
            "exception": type(exc).__qualname__,
            "message": _safe_str(exc),
            "traceback": _in_cells("".join(traceback.format_exception(type(exc), exc, _from_their_code(exc.__traceback__)))),
        }


def _from_their_code(tb: Any) -> Any:  # (a traceback or None)
    """The traceback from the first frame outside this file: the recipe's calls into the student's
    function teach nothing. All of it where the error is this file's own (nothing of theirs in it)."""
    first = tb
    while first is not None and first.tb_frame.f_code.co_filename == _call.__code__.co_filename:
        first = first.tb_next
    return first if first is not None else tb


def _in_cells(text: str) -> str:
    """In a kernel, a frame of a cell named as IPython names it (`Cell In[4], line 2, in gradient`),
    not by the file IPython compiled the cell to (`File "/tmp/ipykernel_7/40489.py"`): the grader
    knows which notebook cell ran as In[4]. Left as it is where the shell's map is not there."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    files = getattr(getattr(shell, "compile", None), "_filename_map", None)
    if not isinstance(files, dict):
        return text
    for name, number in files.items():
        if isinstance(name, str) and isinstance(number, int):
            text = text.replace(f'File "{name}"', f"Cell In[{number}]")
    return text


def _run_in_child(group: list[dict[str, Any]], namespace: dict[str, Any], channel: _Channel, log_path: str) -> None:
    """Body of the forked child: one function's probes in order. Always ends with os._exit."""
    code = 0
    try:
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # A call that prints forever must not fill the disk.
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_LOG_BYTES, MAX_LOG_BYTES))
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
        sys.stderr = sys.stdout
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for probe in group:
            started = time.monotonic()
            result = _call(probe, namespace)
            result.update(type="answer", id=probe["id"], seconds=round(time.monotonic() - started, 3))
            channel.send(result)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:2000]
    except BaseException:
        return "<unprintable>"


def _wait(pid: int, timeout: float, answers: int) -> dict[str, Any]:
    """Wait for the child, at most `timeout` seconds per probe (the grader keeps its own clock too).

    On Linux a pidfd wakes this the moment the child ends; elsewhere it polls, sleeping at most 20 ms.
    """
    import select  # (here, not above: tracebacks and warnings quote this file's earlier lines by number)

    deadline = time.monotonic() + timeout * max(answers, 1)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    try:
        exited = select.poll()
        if pidfd >= 0:
            exited.register(pidfd, select.POLLIN)
        delay = 0.001
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                if os.WIFSIGNALED(status):
                    return {"status": "signal", "signal": os.WTERMSIG(status)}
                return {"status": "exited", "code": os.WEXITSTATUS(status)}
            left = deadline - time.monotonic()
            if left <= 0:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                return {"status": "timeout", "seconds": timeout}
            if pidfd >= 0:
                exited.poll(math.ceil(min(left, 1.0) * 1000))  # (the loop checks the clock again)
            else:
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.02)
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def _read_log(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
        os.unlink(path)
    except OSError:
        return ""
    text = data[:limit].decode("utf-8", errors="replace")
    return text + ("\n[... output truncated ...]" if len(data) > limit else "")


def warm_up() -> None:
    """Pay torch's lazy first-use costs once here, not once in every forked call (or run: zygote.py)."""
    import importlib.util

    import torch
    import torch.nn.functional as F

    lazy = Path(__file__).with_name("lazy_dynamo.py")  # torch._dynamo only when something compiles
    spec = importlib.util.spec_from_file_location("lazy_dynamo", lazy)
    if spec is not None and spec.loader is not None and lazy.exists():
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.defer()

    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.1)
    optimizer.zero_grad()
    F.mse_loss(torch.nn.Linear(1, 1)(param.reshape(1, 1)), torch.zeros(1, 1)).backward()
    optimizer.step()


def run_probes(probes_file: str, channel_path: str, namespace: dict[str, Any]) -> None:
    """Run the probes in `probes_file` against `namespace`, one forked child per function.

    A function that hangs or crashes costs its own probes only; the next function
    gets a fresh child of the same, untouched parent.
    """
    import tempfile

    spec = json.loads(Path(probes_file).read_text(encoding="utf-8"))
    channel = _Channel(channel_path)
    try:
        warm_up()
    except Exception:
        pass  # a submission that broke torch will show it in its own calls
    groups: dict[str, list[dict[str, Any]]] = {}
    for probe in spec["probes"]:
        groups.setdefault(probe["function"], []).append(probe)
    sys.stdout.flush()
    sys.stderr.flush()
    for function, group in groups.items():
        fd, log_path = tempfile.mkstemp(prefix="grader-call-", suffix=".log")
        os.close(fd)
        channel.send({"type": "start", "function": function}, fresh_line=True)
        pid = os.fork()
        if pid == 0:
            _run_in_child(group, namespace, channel, log_path)
        status = _wait(pid, float(spec["call_timeout"]), len(group))
        status.update(type="status", function=function, output=_read_log(log_path, int(spec["output_chars"])))
        channel.send(status, fresh_line=True)
    channel.send({"type": "done", "protocol": PROTOCOL}, fresh_line=True)


def _wait_for_the_grader(go: str) -> None:
    """Wait for the grader's word on the FIFO `go`: it has read `begin` (before the student's code runs
    nothing else reads the channel, and after, that code could take a message out of it first) and set
    the limits the student's code runs under. No deadline of its own: a grader that never gives the word
    stops this process at its load time limit."""
    fd = os.open(go, os.O_RDONLY)
    try:
        os.read(fd, 3)
    finally:
        os.close(fd)


class _TopLevelTimeout(BaseException):
    """Raised by the harness's alarm in a .py file's top level that runs past its time (a
    BaseException: the student's `except Exception` does not swallow it)."""


def _load_script(path: Path, channel_path: str, go: str, seconds: float | None, rest: float,
                 serve: Callable[[dict[str, Any]], None]) -> None:
    """Run a .py submission's top level as a module named after it, record what it raised, then
    `serve` its namespace (which ends the process).

    Past `seconds` the top level is stopped where it is, and the definitions below that point
    (def, class, import, literal bindings) still run, within `rest` seconds: the functions of a
    file whose last lines train for too long are graded, as a notebook's are without its hanging cell.
    A top level that swallows the stop (a bare `except:` in its loop) is not returned to: a moment
    later the alarm goes on from where that code is, as if the stop had ended it there.
    """
    namespace: dict[str, Any] = {"__name__": path.stem, "__file__": str(path), "__builtins__": __builtins__}
    # Nothing of the student's has run or been read yet: a process that ends before this is the grader's failure.
    begin = _Channel(channel_path)
    begin.send({"type": "begin"}, fresh_line=True)
    os.close(begin.fd)
    _wait_for_the_grader(go)
    source = path.read_bytes()  # (a file too large for the memory limit is the student's)

    def stopped_at(line: int | None, left: float) -> dict[str, Any]:
        if line is None:  # the alarm came as the top level ended: it did run to its end
            return {"outcome": "ok"}
        try:
            defined = _define_the_rest(source, path, line, namespace, left)
        except BaseException:  # (the parser or memory gave up: what the top level defined is kept)
            defined = []
        return {"outcome": "timeout", "seconds": seconds, "line": line, "defined": defined}

    def finish(loaded: dict[str, Any]) -> None:
        loaded["type"] = "loaded"
        _Channel(channel_path).send(loaded, fresh_line=True)
        serve(namespace)

    def ignored(frame: Any) -> None:
        """The stop was swallowed, and this runs on top of the code that swallowed it: never return there."""
        try:
            sys.setrecursionlimit(sys.getrecursionlimit() + 100)  # (the code below may be deep already)
            torch = sys.modules.get("torch")
            if torch is not None:  # as leaving a `with torch.no_grad():` would have
                torch.set_grad_enabled(True)
            finish(stopped_at(_frame_line(frame, path), max(rest - _Alarm.GRACE, 0.5)))
        finally:
            os._exit(0)

    try:
        # Bytes, as Python reads a file: a byte-order mark or a `# -*- coding: ... -*-` line is honoured.
        # dont_inherit: this file's own `from __future__ import annotations` must not apply to the student's.
        code = compile(source, str(path), "exec", dont_inherit=True)
        with _Alarm(seconds, ignored):
            exec(code, namespace)
        loaded: dict[str, Any] = {"outcome": "ok"}
    except _TopLevelTimeout as exc:
        loaded = stopped_at(_top_level_line(exc, path), rest)
    except BaseException as exc:
        loaded = _raised(exc, path)
    finish(loaded)


class _Alarm:
    """Raise _TopLevelTimeout in the main thread `seconds` from now, until the block ends.

    With `ignored`: if the block is still running `GRACE` seconds after that (the code caught the
    exception and went on), the alarm calls `ignored` with the frame it lands in instead of raising again.
    """

    GRACE = 0.5

    def __init__(self, seconds: float | None, ignored: Callable[[Any], None] | None = None) -> None:
        self.seconds = seconds
        self.ignored = ignored
        self.state = "off"  # "armed", then "raised"; "off" once the block is left
        self.previous: Any = signal.SIG_DFL

    def _expire(self, signum: int, frame: Any) -> None:
        if self.state == "armed":
            self.state = "raised"
            if self.ignored is not None:
                signal.setitimer(signal.ITIMER_REAL, self.GRACE)
            raise _TopLevelTimeout()
        if self.state == "raised" and self.ignored is not None:
            self.state = "off"
            self.ignored(frame)

    def __enter__(self) -> None:
        if self.seconds:
            self.state = "armed"
            self.previous = signal.signal(signal.SIGALRM, self._expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: Any) -> None:
        if self.seconds:
            self.state = "off"
            # A top level that set SIGALRM up for itself (its own handler, its own timer) keeps it.
            if signal.getsignal(signal.SIGALRM) == self._expire:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, self.previous)


def _top_level_line(exc: BaseException, path: Path) -> int | None:
    """The line of the file's top level that was running (None: the top level had already ended)."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == str(path) and code.co_name == "<module>":
            return tb.tb_lineno
        tb = tb.tb_next
    return None


def _frame_line(frame: Any, path: Path) -> int | None:
    """The line of the file's top level that `frame` (or a frame that called it) is running."""
    while frame is not None:
        code = frame.f_code
        if code.co_filename == str(path) and code.co_name == "<module>":
            return int(frame.f_lineno)
        frame = frame.f_back
    return None


def _define_the_rest(source: bytes, path: Path, line: int, namespace: dict[str, Any], seconds: float) -> list[str]:
    """Run the definitions, imports and literal bindings (`LR = 0.01`) of the top level that start below
    `line`, each on its own (one that fails leaves only itself out), and the `if` and `try` statements
    made of nothing else; the names they bound."""
    import __future__
    import ast

    tree = ast.parse(source, str(path))
    rest = [node for node in tree.body if node.lineno > line and _defines_only(node)]
    flags = 0
    for node in tree.body:  # `from __future__ import ...` changes how the rest compiles too
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                flags |= getattr(__future__, alias.name).compiler_flag
    defined: list[str] = []
    try:
        with _Alarm(seconds):
            for node in rest:
                try:
                    module = ast.Module(body=[node], type_ignores=[])
                    exec(compile(module, str(path), "exec", flags=flags, dont_inherit=True), namespace)
                except _TopLevelTimeout:
                    raise
                except BaseException:
                    continue  # that definition is missing, as it would be; the others still run
                defined += [name for name in _bound(node) if name in namespace and name not in defined]
    except _TopLevelTimeout:
        pass  # out of time: what ran is kept
    return defined


def _defines_only(node: Any) -> bool:
    """A def, class, import or literal binding, or an `if` or `try` made only of those (and `pass`)."""
    import ast

    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Pass)):
        return True
    if isinstance(node, ast.If):
        return all(_defines_only(n) for n in node.body + node.orelse)
    if isinstance(node, (ast.Try, ast.TryStar)):
        inner = node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body]
        return all(_defines_only(n) for n in inner)
    return _constant(node)


def _bound(node: Any) -> list[str]:
    """The top-level names a statement that `_defines_only` may bind."""
    import ast

    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split(".")[0] for alias in node.names]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return [t.id for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)]
    inner = [n for field in ("body", "orelse", "finalbody") for n in getattr(node, field, [])]
    inner += [n for h in getattr(node, "handlers", []) for n in h.body]
    return [name for n in inner for name in _bound(n)]


def _constant(node: Any) -> bool:
    """`LR = 0.01`: a top-level name bound to a literal, which a definition below may use as a default."""
    import ast

    value = getattr(node, "value", None)
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or value is None:
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _raised(exc: BaseException, path: Path) -> dict[str, Any]:
    tb = exc.__traceback__
    # Keep only the frames of the student's file: the harness frames teach nothing.
    while tb is not None and tb.tb_frame.f_code.co_filename != str(path):
        tb = tb.tb_next
    return {
        "outcome": "raised",
        "exception": type(exc).__qualname__,
        "message": _safe_str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, tb)),
    }


def _as_a_warm_run_starts() -> None:
    """Before `begin`, what a run forked from the warm zygote already holds (zygote.py's warm-up): torch
    imported and warmed up, its generator where a fresh import leaves it. The memory limit counts from
    `begin`, so a cold start and a warm one leave the student's code the same room."""
    import torch

    state = torch.get_rng_state()
    try:
        warm_up()
    finally:
        torch.set_rng_state(state)


def main(argv: list[str]) -> None:
    submission, probes_file, channel_path, go = argv
    spec = json.loads(Path(probes_file).read_text(encoding="utf-8"))
    _as_a_warm_run_starts()

    def serve(namespace: dict[str, Any]) -> None:
        run_probes(probes_file, channel_path, namespace)
        sys.stdout.flush()
        os._exit(0)

    _load_script(Path(submission), channel_path, go, spec.get("load_timeout"), float(spec.get("rest_timeout", 0)), serve)


if __name__ == "__main__":
    main(sys.argv[1:])
