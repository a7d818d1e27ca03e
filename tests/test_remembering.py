"""Remembering the grader's own runs between processes (grader/labs/remembering.py).

A store file keeps the reference's runs and the classic mistakes' simulations for one lab and
one grading fingerprint. What it gives back must be exactly what was computed (a report from a
remembered run is byte-identical to one computed afresh); whatever the file holds, reading it
never fails a grade; a grade without the sandbox neither reads nor writes it.
"""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from conftest import ROOT, SUBMISSIONS, apply_override

from grader.labs import remembering


@pytest.fixture
def fresh_memory() -> Iterator[None]:
    """This process's remembered runs set aside, and no store, around the test."""
    kept = dict(remembering._MEMO)
    remembering._MEMO.clear()
    remembering.use_store(None)
    yield
    remembering._MEMO.clear()
    remembering._MEMO.update(kept)
    remembering.use_store(None)


def _as_new_process(store: Path | None) -> None:
    remembering._MEMO.clear()
    remembering.use_store(None)
    remembering.use_store(store)


def _bits(t: torch.Tensor) -> list[int]:
    return t.detach().contiguous().reshape(-1).view(torch.uint8).tolist()


def _same(a: object, b: object) -> bool:
    """Equal in type, dtype, shape, requires_grad and every bit of every number (NaN, -0.0 too)."""
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape
                and a.requires_grad == b.requires_grad
                and _bits(a) == _bits(b))
    if isinstance(a, float):
        return isinstance(b, float) and (math.copysign(1, a), a if a == a else "nan") == (math.copysign(1, b), b if b == b else "nan")
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_a_remembered_run_comes_back_exactly_from_another_process(tmp_path: Path, fresh_memory: None) -> None:
    store = tmp_path / "cache" / "memo-lab2-0123456789abcdef.jsonl"
    calls: list[int] = []

    def run(x: torch.Tensor, steps: int) -> object:
        calls.append(steps)
        w = (x * 1.1).requires_grad_(True)  # a leaf that wants gradients, like a trained parameter
        return ([float(v) for v in x], [(w.detach().clone(), torch.tensor(steps))],
                {"odd": (float("nan"), float("-inf"), -0.0, 1e-45, None, True, "text"),
                 "tensors": [torch.tensor([float("nan"), float("inf"), -0.0], dtype=torch.float64),
                             torch.zeros(0, 3), torch.tensor(7, dtype=torch.int64), torch.tensor([True, False]),
                             torch.tensor([1.5, -2.25], dtype=torch.bfloat16), w.detach().clone().requires_grad_(True)]})

    remembered = remembering.memo(run)
    x = torch.tensor([0.1, 0.2, 1 / 3], dtype=torch.float32)
    remembering.use_store(store)
    first = remembered(x, 3)
    remembering.save()
    assert calls == [3]
    assert stat.S_IMODE(store.stat().st_mode) == 0o600  # it holds the reference's runs on hidden inputs
    written = store.read_bytes()

    _as_new_process(store)
    again = remembered(x, 3)
    assert calls == [3], "the second process computed again instead of reading the store"
    assert _same(first, again)
    remembered(x, 4)  # a call not yet remembered is made, and added
    assert calls == [3, 4]
    remembering.save()
    _as_new_process(store)
    assert _same(remembered(x, 4), run(x, 4)) and calls == [3, 4, 4]

    # The same entries give the same bytes, whatever order they were computed and saved in.
    other = tmp_path / "other.jsonl"
    _as_new_process(other)
    remembered(x, 4)
    remembering.save()
    remembered(x, 3)
    remembering.save()
    assert store.read_bytes() != written and other.read_bytes() == store.read_bytes()


def test_what_a_caller_changes_in_what_it_was_given_is_not_remembered(fresh_memory: None) -> None:
    """Every call gets a copy of its own: a check that changes a remembered run in place (its list of
    costs, its params tensor, a dict in it) changes nothing for the next check or the next student."""
    calls: list[int] = []

    def run(n: int) -> tuple[list[float], torch.Tensor, dict[str, list[int]]]:
        calls.append(n)
        return [0.5] * n, torch.zeros(n, 2, 1), {"k": [1, 2]}

    remembered = remembering.memo(run)
    for _ in range(3):
        costs, params, extra = remembered(4)
        assert calls == [4]
        assert costs == [0.5] * 4 and torch.equal(params, torch.zeros(4, 2, 1)) and extra == {"k": [1, 2]}
        costs[0] = 9.0
        costs.append(1.0)
        params[0][1].add_(5)
        extra["k"].append(3)


@pytest.mark.parametrize("content", [b"", b"\x00\xff not json", b"[1, 2]", b'{"a": 1}', b"null", b'["x",{"tuple":5}]'])
def test_whatever_the_store_holds_a_call_is_made_and_the_store_mended(content: bytes, tmp_path: Path,
                                                                      fresh_memory: None) -> None:
    store = tmp_path / "memo.jsonl"
    remembering.use_store(store)
    calls: list[int] = []

    def run(n: int) -> list[float]:
        calls.append(n)
        return [n / 3]

    remembered = remembering.memo(run)
    remembered(1)
    remembering.save()
    # Now break every entry in the file's way: the whole file, or each remembered value.
    digests = [json.loads(line)[0] for line in store.read_text(encoding="utf-8").splitlines()]
    assert len(digests) == 1
    broken = [json.dumps([d, {"tensor": "float32", "shape": [9], "grad": False, "values": ["x"]}]) for d in digests]
    store.write_bytes(content.replace(b"x", digests[0].encode()) if content else "\n".join(broken).encode())
    _as_new_process(store)
    assert remembered(1) == [1 / 3] and calls == [1, 1]
    remembering.save()
    _as_new_process(store)
    assert remembered(1) == [1 / 3] and calls == [1, 1]  # mended by the save


def test_a_grade_reads_the_runs_an_earlier_grade_kept_and_reports_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_memory: None) -> None:
    """Grades of a submission with a classic mistake, each as a new process would (nothing
    remembered in memory): the first keeps its runs, the second reads them and reports the same
    bytes; a store changed behind its back changes the third's report (so the store is what it
    read), and a new process that reads it trains nothing. Without the sandbox nothing is kept."""
    from grader.config import Limits, Sandboxing
    from grader.labs import load_lab
    from grader import pipeline
    from grader.pipeline import _memo_store, grade
    from grader.reporting import write_json

    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert _memo_store(load_lab("lab2"), Limits(sandboxing=Sandboxing.OFF)) is None
    assert _memo_store(load_lab("lab2"), Limits()) is not None
    submission = apply_override(SUBMISSIONS / "lab2/overrides/forgets_zero_grad.py", "py", tmp_path)

    def report() -> bytes:
        _as_new_process(None)
        pipeline._primed.clear()  # as in a new process: the checks' head start runs (and fills the store) again
        write_json(grade(submission, "lab2", Limits(call=10, cell=30)), tmp_path / "r.json")
        return (tmp_path / "r.json").read_bytes()

    first = report()
    stores = list(cache.glob("grader/memo-lab2-*.jsonl"))
    assert len(stores) == 1
    assert report() == first
    result = json.loads(first)
    assert result["score"] < result["max_score"] and "zero_grad" in first.decode()  # the mistake was named
    # A new `grade` process with this store grades the mistake and the solution without training
    # anything on the grader's side (no optimizer is made there).
    grade_both = ("import sys, torch\nfrom grader.cli import main\n"
                  "made = []\nmake = torch.optim.Optimizer.__init__\n"
                  "torch.optim.Optimizer.__init__ = lambda self, *a, **k: (made.append(1), make(self, *a, **k))[1]\n"
                  "codes = [int(main([path, '--lab', 'lab2', '--quiet'])) for path in sys.argv[1:]]\n"
                  "print('CODES', codes, 'TRAINED', bool(made))\n")
    run = subprocess.run([sys.executable, "-I", "-c", grade_both, str(submission), str(ROOT / "solutions/lab2/lab2.py")],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "XDG_CACHE_HOME": str(cache)},
                         cwd=tmp_path)
    assert run.stdout.splitlines()[-1:] == ["CODES [1, 0] TRAINED False"], run.stderr[-2000:]

    def zeroed(value: object) -> object:
        if isinstance(value, dict):
            return {k: (zeroed(v) if k != "values" else [0.0 if isinstance(n, float) else n for n in v])
                    for k, v in value.items()}
        if isinstance(value, list):
            return [0.0 if isinstance(v, float) else zeroed(v) for v in value]
        return value

    lines = [json.loads(line) for line in stores[0].read_text(encoding="utf-8").splitlines()]
    stores[0].write_text("".join(json.dumps([d, zeroed(v)]) + "\n" for d, v in lines), encoding="utf-8")
    assert report() != first


def test_a_save_removes_the_labs_files_unused_for_a_week_and_a_read_marks_its_own_used(
        tmp_path: Path, fresh_memory: None) -> None:
    """Each grader or lab version makes another file of about 2 MB: a save removes this lab's files of
    other fingerprints untouched for a week, and nothing else. Reading a file marks it used, so an old
    grader's save does not remove the file a newer one keeps reading without adding to it."""
    import os
    import time

    folder = tmp_path / "cache"
    folder.mkdir()
    week_ago = time.time() - 8 * 24 * 3600
    files = {name: folder / name for name in (
        "memo-lab2-aaaaaaaaaaaaaaaa.jsonl",  # this lab, another fingerprint, unused for a week: goes
        "memo-lab2-bbbbbbbbbbbbbbbb.jsonl",  # this lab, another fingerprint, used yesterday: stays
        "memo-lab2x-cccccccccccccccc.jsonl",  # another lab (whose name starts like this one's): stays
        "checks-lab2-dddddddddddddddd.json",  # the batch's cache: stays
        "memo-lab1-eeeeeeeeeeeeeeee.jsonl")}  # another lab, read below: marked used
    for path in files.values():
        path.write_text('["' + "0" * 64 + '",1]\n', encoding="utf-8")
        os.utime(path, (week_ago, week_ago))
    yesterday = time.time() - 24 * 3600
    os.utime(files["memo-lab2-bbbbbbbbbbbbbbbb.jsonl"], (yesterday, yesterday))

    _as_new_process(files["memo-lab1-eeeeeeeeeeeeeeee.jsonl"])
    assert remembering.memo(lambda x: x + 1)(1) == 2  # reads the file (the call itself is not in it)
    assert files["memo-lab1-eeeeeeeeeeeeeeee.jsonl"].stat().st_mtime > time.time() - 60

    ours = folder / "memo-lab2-ffffffffffffffff.jsonl"
    _as_new_process(ours)
    assert remembering.memo(lambda x: x * 3)(2) == 6
    remembering.save()
    assert ours.is_file()
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([ours.name, *(name for name in files if name != "memo-lab2-aaaaaaaaaaaaaaaa.jsonl")])
