# %% the other student: graded at the same moment as reaches_the_other_student.py. It names its
# process so that the attack can find it, then stays until it has seen the attack come (the attack
# names its own process too) and finish (it takes its name off), or 30 s: however far apart the two
# runs start, they overlap.
import ctypes as _ctypes
import os as _os
import sys as _sys
import time as _time

_ctypes.CDLL(None).prctl(15, b"{VICTIM}", 0, 0, 0)  # PR_SET_NAME


def _attack_running() -> bool:
    for _entry in _os.listdir("/proc"):
        try:
            with open(f"/proc/{_entry}/comm") as _f:
                if _f.read().strip() == "{VICTIM}a":
                    return True
        except OSError:
            pass
    return False


_seen = False
_until = _time.monotonic() + 30
while _time.monotonic() < _until:
    _running = _attack_running()
    if _seen and not _running:
        break
    _seen = _seen or _running
    _time.sleep(0.05)
print(f"VICTIM still here (saw the attack: {_seen})", file=_sys.stderr)
