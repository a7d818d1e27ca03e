"""The grader keeps its own clocks and reads what the student's side sends defensively.

Each case is a real `grade` run on lab 2's solution with an attack appended
(tests/submissions/attacks/): whatever the attack does to the harness in its own
process, to its output or to the result channel, the grader finishes promptly, stays
healthy, and grades what the functions honestly return.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from conftest import assert_reads_in_korean, run_grade
from test_sandbox import with_attack

FAST = ("--call-timeout", "3", "--cell-timeout", "30")


def test_a_patched_harness_cannot_stop_the_call_limit(tmp_path: Path) -> None:
    # The harness's clock is frozen and its kills are no-ops: only the grader can end the runaway call.
    graded = run_grade(with_attack("stops_the_harness_clock.py", "py", tmp_path), *FAST, cwd=tmp_path, timeout=120)
    for check in graded.checks_of("gradient"):
        assert check["status"] == "error" and "timed out after 3 s" in check["message"], check
    others = [c for c in graded.report["checks"] if c["function"] != "gradient"]
    assert others and all(c["status"] == "passed" for c in others), others


def test_a_cell_limit_under_one_second_still_applies(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("import time\ntime.sleep(20)")])
    path = tmp_path / "lab2.ipynb"
    nbformat.write(nb, str(path))
    graded = run_grade(path, "--cell-timeout", "0.5", cwd=tmp_path, timeout=120)
    timeouts = [i for i in graded.report["issues"] if i["kind"] == "cell_timeout"]
    assert [i["where"] for i in timeouts] == ["cell 2"], graded.report["issues"]
    assert "0.5 s" in timeouts[0]["message"]


def _largest_file(folder: Path, stop: threading.Event, seen: list[int]) -> None:
    while not stop.is_set():
        for root, _, files in os.walk(folder):
            for name in files:
                try:
                    seen.append(os.lstat(os.path.join(root, name)).st_size)
                except OSError:
                    pass
        time.sleep(0.05)


def test_flooding_output_writes_nothing_big_on_the_graders_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The grader's temporary folders go under a folder the test watches while the student prints 300 MB.
    grader_tmp = Path(tempfile.mkdtemp(prefix="gt-", dir="/tmp"))  # short: a deep one is not used for runs
    monkeypatch.setenv("TMPDIR", str(grader_tmp))
    seen: list[int] = [0]
    stop = threading.Event()
    watcher = threading.Thread(target=_largest_file, args=(grader_tmp, stop, seen), daemon=True)
    watcher.start()
    try:
        graded = run_grade(with_attack("floods_the_grader.py", "py", tmp_path), *FAST, cwd=tmp_path, timeout=300,
                          process=True)  # its own process: this one has read TMPDIR already
    finally:
        stop.set()
        watcher.join(timeout=5)
    shutil.rmtree(grader_tmp, ignore_errors=True)
    assert max(seen) < 1_000_000, f"a grader-side file reached {max(seen)} bytes"
    assert graded.report["score"] == 25
    assert len(graded.report["stderr"]) < 100_000 and "output truncated" in graded.report["stderr"]


def test_a_notebook_flooding_prints_and_displays_keeps_little(tmp_path: Path) -> None:
    """Past the output limit a cell's outputs are dropped as they come (any kind), and one message
    over 16 MiB is refused by the socket itself: the grade finishes with a small report. Refusing it
    drops the connection that carried it, which ZMQ does not make again by itself: the grader
    connects again, so a later cell's output and error still reach the report."""
    path = with_attack("floods_the_notebook.py", "ipynb", tmp_path)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('after the flood')\nraise ValueError('a later cell raises')"))
    nbformat.write(nb, str(path))
    graded = run_grade(path, *FAST, cwd=tmp_path, timeout=300)
    assert graded.returncode == 0 and graded.report["score"] == 25, graded.stderr[-2000:]
    assert len(json.dumps(graded.report)) < 200_000
    raised = [i for i in graded.report["issues"] if i["kind"] == "cell_error"]
    assert [i["where"] for i in raised] == [f"cell {len(nb.cells)}"], graded.report["issues"]
    assert "ValueError: a later cell raises" in raised[0]["message"]


def test_a_notebook_s_plots_are_not_output_past_the_limit(tmp_path: Path) -> None:
    """An inline matplotlib plot and a display of a 60 kB image: their images are not what the grader
    reads, and used to count as more output than the limit (the report said the code had printed too
    much). Text past the limit in the same cell still counts."""
    from conftest import ROOT

    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot(range(100), [i * i for i in range(100)])\n"
        "plt.show()\nfrom IPython.display import display\ndisplay({'image/png': 'iVBOR' + 'A' * 60_000}, raw=True)"))
    path = tmp_path / "lab2.ipynb"
    nbformat.write(nb, str(path))
    graded = run_grade(path, *FAST, cwd=tmp_path, timeout=300)
    assert graded.report["score"] == 25 and graded.report["issues"] == [], graded.report["issues"]
    assert "output truncated" not in graded.report["stderr"], graded.report["stderr"]
    nb.cells.append(nbformat.v4.new_code_cell("print('x' * 30_000)"))
    nbformat.write(nb, str(path))
    graded = run_grade(path, *FAST, cwd=tmp_path, timeout=300)
    assert graded.report["stderr"].strip() == f"[cell {len(nb.cells)}] [... output truncated ...]", graded.report["stderr"]


def test_an_error_too_long_to_send_is_reported_as_an_error_not_a_hang(tmp_path: Path) -> None:
    """A cell raising an error whose message is over 16 MiB: its reply is refused like any message
    that large, and ZMQ drops the connection it came on. The cell used to wait for that reply until
    its time limit and was reported as running too long; it is an error of its own cell, and the
    notebook is run again without it."""
    from conftest import ROOT

    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise ValueError('x' * 20_000_000)"))
    path = tmp_path / "lab2.ipynb"
    nbformat.write(nb, str(path))
    graded = run_grade(path, *FAST, cwd=tmp_path, timeout=300)
    assert graded.report["score"] == 25, graded.stderr[-2000:]
    assert [(i["kind"], i["where"]) for i in graded.report["issues"]] == [("cell_error", "cell 4")], graded.report["issues"]
    assert "over 16 MiB" in graded.report["issues"][0]["message"]


def test_notebook_after_notebook_leaves_no_connections_or_threads_behind(tmp_path: Path) -> None:
    """A batch worker or the warm service grades notebook after notebook in one process: each one's
    kernel connections (two ZMQ contexts, each with two threads and its descriptors) must go with it,
    else a class of a few hundred notebooks runs out of descriptors. The second grade is one whose
    kernel dies in a cell, so it talks to two kernels."""
    import gc
    import zmq
    from conftest import ROOT
    from grader.pipeline import grade

    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    dying = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    dying.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(1)"))

    def counts() -> tuple[int, int, int]:
        gc.collect()
        contexts = sum(1 for o in gc.get_objects() if issubclass(type(o), zmq.Context) and not o.closed)
        return len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task")), contexts

    seen = []
    for i, notebook in enumerate([nb, dying, nb]):
        path = tmp_path / str(i) / "lab2.ipynb"
        path.parent.mkdir()
        nbformat.write(notebook, str(path))
        assert grade(path, "lab2").score == 25
        seen.append(counts())
    (fds, threads, contexts), (fds_after, threads_after, contexts_after) = seen[0], seen[-1]
    assert contexts_after <= contexts and threads_after <= threads, seen
    assert fds_after <= fds + 2, seen


def test_hostile_data_on_the_result_channel_is_dropped_not_trusted(tmp_path: Path) -> None:
    """Lines too deep, too long or not an object are dropped and the honest answers that follow are read.
    The attack must reach the channel (its writes end; a write into the wrong FIFO blocked until the
    top level timed out, and the test passed on the definitions replayed after it)."""
    graded = run_grade(with_attack("forges_answers.py", "py", tmp_path), *FAST, cwd=tmp_path, timeout=120)
    assert "hostile lines written to 1 channel(s)" in graded.report["stderr"], graded.report["stderr"][-2000:]
    assert graded.report["issues"] == [], graded.report["issues"]
    assert graded.returncode == 0 and graded.report["score"] == 25, graded.stderr[-2000:]


def test_empty_tensors_of_millions_of_rows_are_refused_not_expanded(tmp_path: Path) -> None:
    """A tensor of shape (4194304, 0) has no elements, so it passes every cap on elements; shown as
    nested lists it is 4 million of them (2**28 rows took 9 GB of the grader's memory). The grader
    refuses it by its shape: the functions lose their points and the report stays small. (4 million
    rows bound the test: the grader without the refusal uses some hundreds of MiB here.)"""
    graded = run_grade(with_attack("returns_empty_giants.py", "py", tmp_path), *FAST, cwd=tmp_path, timeout=300)
    assert len(json.dumps(graded.report)) < 200_000
    scores = graded.function_scores()
    assert scores["hypothesis"][0] == 0 and scores["mse_cost"][0] == 0, scores
    shown = [c["obtained"] for c in graded.checks_of("hypothesis") + graded.checks_of("mse_cost") if c["obtained"]]
    assert shown and all("too large" in text for text in shown), shown
    assert_reads_in_korean(graded.report)


def test_demonstration_cells_are_skipped(tmp_path: Path) -> None:
    from conftest import ROOT

    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    demo = nbformat.v4.new_code_cell("raise RuntimeError('a demo that fails')")
    demo.metadata["tags"] = ["demo"]
    nb.cells.append(demo)
    nb.cells.append(nbformat.v4.new_code_cell("print('graded cells still run')"))
    path = tmp_path / "lab2.ipynb"
    nbformat.write(nb, str(path))
    graded = run_grade(path, *FAST, cwd=tmp_path, timeout=120)
    assert graded.report["issues"] == [] and graded.returncode == 0, graded.report["issues"]


def test_a_deep_temporary_folder_still_grades_notebooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel's sockets are files below the run's folder, and a socket's path holds 107 bytes: under
    a deep TMPDIR the runs' folders go to /tmp instead of the kernel failing to start."""
    from conftest import ROOT

    deep = tmp_path / ("deep-" * 12)
    deep.mkdir()
    monkeypatch.setenv("TMPDIR", str(deep))
    graded = run_grade(ROOT / "solutions/lab2/lab2.ipynb", *FAST, cwd=tmp_path, timeout=300, process=True)
    assert graded.returncode == 0 and graded.report["score"] == 25, graded.stderr[-2000:]


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_a_stop_whose_exception_was_swallowed_still_ends_the_run(kind: str, tmp_path: Path) -> None:
    """A stop (SIGTERM to a batch worker or the warm service) raises `Stopped` wherever the main thread
    is, and a library's bare `except:` can swallow it: the service then went on grading a hanging file
    for its whole time limit after its `grade` had gone away. The flag the stop leaves must still end
    the run (here the stop's exception is swallowed on purpose, in another thread), and the sandbox
    with it."""
    import signal
    import uuid

    from grader import stopping
    from grader.config import Limits
    from grader.labs import load_lab
    from grader.runner import run_submission
    from test_batch_safety import _processes_with

    token = f"{500 + uuid.uuid4().int % 10_000 / 10_000:.4f}7"  # a sleep no other process has
    from conftest import ROOT

    block = f"import subprocess\nsubprocess.run(['sleep', '{token}'])\n"
    if kind == "py":
        path = tmp_path / "lab2.py"
        path.write_text((ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8") + "\n" + block, encoding="utf-8")
    else:
        nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(block))
        path = tmp_path / "lab2.ipynb"
        nbformat.write(nb, str(path))
    stopped_at: list[float] = []

    def swallowed_stop() -> None:
        limit = time.monotonic() + 60
        while not _processes_with(f"sleep\0{token}") and time.monotonic() < limit:
            time.sleep(0.1)
        stopped_at.append(time.monotonic())
        try:
            stopping.request(signal.SIGTERM, None)  # what the handler does: set the flag, raise
        except stopping.Stopped:
            pass  # ...and a bare `except:` where it landed

    stopper = threading.Thread(target=swallowed_stop, daemon=True)
    stopper.start()
    try:
        with pytest.raises(stopping.Stopped):
            run_submission(path, kind, load_lab("lab2").make_probes(), Limits(call=5, cell=30, load=30))
        ended = time.monotonic()
    finally:
        stopper.join(70)
        stopping._requested = False
        for pid in _processes_with(f"sleep\0{token}"):  # clean up before failing
            os.kill(pid, 9)
    assert stopped_at and ended - stopped_at[0] < 10  # not the cell or load limit (30 s)
    assert _processes_with(f"sleep\0{token}") == []
