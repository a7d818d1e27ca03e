# %% attack: spin on every core at import time, each process in a session of its own (so that the
# scheduler's per-session shares give it more), for 2 s of wall time, then say how much CPU it got.
import json as _json
import os as _os
import sys as _sys
import time as _time

_start = _time.monotonic()
_children = []
for _ in range(3):
    _pid = _os.fork()
    if _pid == 0:
        _os.setsid()
        while _time.monotonic() - _start < 2.0:
            pass
        _os._exit(0)
    _children.append(_pid)
for _pid in _children:
    _os.waitpid(_pid, 0)
_wall = _time.monotonic() - _start
_used = _os.times().children_user + _os.times().children_system
print("ATTACK " + _json.dumps({"cpus": round(_used / _wall, 2)}), file=_sys.stderr, flush=True)
