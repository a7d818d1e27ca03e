# %% attack: a double-forked, setsid process meant to outlive the grading ({TOKEN} marks it).
import os as _os
import sys as _sys

if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        _os.execv(_sys.executable, [_sys.executable, "-c", "import time; time.sleep(300)", "{TOKEN}"])
    _os._exit(0)
_os.wait()
