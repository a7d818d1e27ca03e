# %% attack: write up to 2 GiB into /tmp and into the working folder, stopping at the first error.
import json as _json
import os as _os
import sys as _sys

_written = {}
for _where in ("/tmp", _os.path.expanduser("~")):
    _n = 0
    try:
        with open(_os.path.join(_where, "fill.bin"), "wb") as _f:
            _chunk = b"\0" * (1 << 20)
            while _n < (2 << 30):
                _f.write(_chunk)
                _f.flush()
                _n += len(_chunk)
    except BaseException as _exc:
        _written[_where + " error"] = type(_exc).__name__
    _written[_where] = _n
    try:
        _os.unlink(_os.path.join(_where, "fill.bin"))
    except OSError:
        pass
print("ATTACK " + _json.dumps(_written), file=_sys.stderr, flush=True)
