# %% attack: print 300 MB to stdout and to stderr at import time, then carry on.
import sys as _sys

_block = "x" * 1_000_000
for _ in range(150):
    _sys.stdout.write(_block)
    _sys.stderr.write(_block)
_sys.stdout.flush()
_sys.stderr.flush()
