# %% attack: find the grader's warm service and talk to it (a service that took this connection
# could be asked to grade, or to stop). The test fills in where it lives on the grader's side.
import json as _json
import os as _os
import socket as _socket
import stat as _stat
import sys as _sys

_found = {}
_seen = []
for _folder in {FOLDERS}:
    for _root, _dirs, _files in _os.walk(_folder):
        for _name in _files:
            try:
                if _stat.S_ISSOCK(_os.lstat(_os.path.join(_root, _name)).st_mode):
                    _seen.append(_os.path.join(_root, _name))
            except OSError:
                pass
_found["sockets seen"] = repr(_seen)
for _path in sorted(set({SOCKETS} + _seen)):
    _conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        _conn.settimeout(5)
        _conn.connect(_path)
        _found["connect " + _path] = "done"
    except BaseException as _exc:
        _found["connect " + _path] = "blocked: " + type(_exc).__name__
    finally:
        _conn.close()
print("ATTACK " + _json.dumps(_found), file=_sys.stderr)
