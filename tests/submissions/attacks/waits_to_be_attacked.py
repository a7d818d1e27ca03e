# %% the other student: graded at the same moment as reaches_the_other_student.py. It names its
# process so that the attack can find it, then waits there long enough to be found.
import ctypes as _ctypes
import sys as _sys
import time as _time

_ctypes.CDLL(None).prctl(15, b"{VICTIM}", 0, 0, 0)  # PR_SET_NAME
_time.sleep(8)
print("VICTIM still here", file=_sys.stderr)
