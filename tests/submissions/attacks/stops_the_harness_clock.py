# %% attack: stop the clock and the kills of the harness (it runs in this process), then hang in gradient().
import os as _os
import time as _time

_time.monotonic = lambda: 0.0
_os.kill = lambda *args, **kwargs: None


def gradient(x, y, W, b):
    while True:
        pass
