# %% attack: write hostile data where the grader reads answers: the result channel, a FIFO whose
# path is among the harness's arguments (any FIFO there but the "go" one, which nobody reads after
# the start, so writing to it would only block). Send deep JSON, an oversized line and junk, then
# try to replace the channel with a link to /dev/zero. The last line tells the test it got through.
import os as _os
import stat as _stat
import sys as _sys

_deep = "[" * 200_000 + "]" * 200_000
_channels = [a for a in _sys.argv[1:] if _os.path.basename(a) != "go" and _os.path.exists(a)
             and _stat.S_ISFIFO(_os.stat(a).st_mode)]
for _target in _channels:
    _fd = _os.open(_target, _os.O_WRONLY)
    for _line in (_deep, '{"type": "answer", "id": ' + "[" * 5000 + "]" * 5000 + "}", "z" * (10 << 20), "not json", '"a string"'):
        _os.write(_fd, (_line + "\n").encode())
    for _how in (lambda: _os.unlink(_target), lambda: _os.symlink("/dev/zero", _target + ".x")):
        try:
            _how()
        except OSError:
            pass
print(f"hostile lines written to {len(_channels)} channel(s)", file=_sys.stderr, flush=True)
