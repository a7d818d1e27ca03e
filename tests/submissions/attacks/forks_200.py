# %% attack: fork 200 processes at import time (each sleeps a second), then carry on.
import json as _json
import os as _os
import sys as _sys
import time as _time

_made = 0
for _ in range(200):
    try:
        _pid = _os.fork()
    except OSError:
        continue
    if _pid == 0:
        _time.sleep(1.0)
        _os._exit(0)
    _made += 1
while True:
    try:
        _os.wait()
    except ChildProcessError:
        break
print("ATTACK " + _json.dumps({"forked": _made}), file=_sys.stderr, flush=True)
