# %% attack: read the files next to where the grader was started (a class folder, other students'
# work), which `python -m grader` puts on sys.path. The test fills in the paths.
import json as _json
import os as _os
import sys as _sys

_seen = {}
for _name, _path in {PATHS}.items():
    try:
        with open(_path, "rb") as _f:
            _seen[_name] = "done: " + repr(_f.read()[:40])
    except BaseException as _exc:
        _seen[_name] = "blocked: " + type(_exc).__name__
_seen["sys.path holds the working folder"] = repr(_os.path.isdir({FOLDER}))
print("ATTACK " + _json.dumps(_seen), file=_sys.stderr)
