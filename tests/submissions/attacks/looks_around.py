# %% attack: everything a curious submission can try to read, reach or change, tried at import time.
# The test fills in the real paths of the grader's files ({...} placeholders); the results go
# to stderr, which the grader shows in the report, so the test can read what happened inside.
import json as _json
import os as _os
import socket as _socket
import sys as _sys

_found = {}


def _try(name, action):
    try:
        _found[name] = "done: " + repr(action())[:200]
    except BaseException as exc:  # blocked, as it should be
        _found[name] = "blocked: " + type(exc).__name__


def _import_reference():
    from grader.labs import load_lab
    return load_lab("lab2").reference()


def _read(path):
    with open(path, "rb") as f:
        return len(f.read())


def _append(path):
    with open(path, "ab") as f:
        f.write(b"# tampered\n")
    return path


def _connect(port):
    with _socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"hello from a submission\n")
    return port


def _grader_processes():
    seen = []
    for pid in _os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    seen.append(f.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
    targets = [c for c in seen if "pytest" in c or "/bin/grade" in c or "grade " in c]
    for pid in _os.listdir("/proc"):
        if pid.isdigit() and int(pid) > 1 and int(pid) != _os.getpid():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if any(t.encode() in f.read().replace(b"\0", b" ") for t in ("pytest", "/bin/grade")):
                        _os.kill(int(pid), 9)
            except OSError:
                pass
    return {"visible": len(seen), "grader_like": targets}


_try("import_grader_reference", _import_reference)
for _name, _path in {PATHS_TO_READ}.items():
    _try("read " + _name, lambda p=_path: _read(p))
for _name, _path in {PATHS_TO_CHANGE}.items():
    _try("change " + _name, lambda p=_path: _append(p))
_try("connect to a server on the host's 127.0.0.1", lambda: _connect({PORT}))
_try("network interfaces", lambda: [n for _, n in _socket.if_nameindex()])
_try("kill the grader", _grader_processes)
print("ATTACK " + _json.dumps(_found, sort_keys=True), file=_sys.stderr, flush=True)
