# %% detector: the top level fails if anything an earlier submission left ({TOKEN}) is visible.
import builtins as _builtins
import os as _os

import torch as _torch

_found = []
if getattr(_builtins, "LEFT_BY_ATTACKER", None) or getattr(_torch, "LEFT_BY_ATTACKER", None):
    _found.append("globals")
if float(_torch.tensor([1.0, 3.0]).mean()) != 2.0:
    _found.append("patched torch")
if _torch.initial_seed() == 12345:
    _found.append("seeded torch")
for _folder in ("/tmp", "/home/student", "/dev/shm", "/", "/dev", "/grader", _os.path.dirname(_os.getcwd())):
    if _os.path.exists(_os.path.join(_folder, "left-{TOKEN}")):
        _found.append(f"file in {_folder}")
for _entry in _os.listdir("/proc"):
    try:
        with open(f"/proc/{_entry}/cmdline", "rb") as _f:
            if b"{TOKEN}" in _f.read():
                _found.append(f"process {_entry}")
    except OSError:
        pass
if _found:
    raise RuntimeError(f"left by an earlier submission: {_found}")
