"""The warm worker (grader/runner/warm.py): one sandboxed Python with torch imported, forked per run.

Each run is a fresh fork that no other submission has run in. What one submission does
(globals, a patched torch, a seeded generator, threads, files in every folder it can write,
a process meant to outlive it, signals and reads aimed at the warm process) must not
reach the next submission the same zygote serves, nor the zygote itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, run_grade
from test_sandbox import ATTACKS, FAST, needs_bubblewrap, with_attack  # noqa: F401  (the fixture applies here too)


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _serving_zygote() -> int:
    """The host pid of the zygote the next grade in this process will be forked from."""
    from grader.runner import warm

    zygote = warm.acquire()
    warm.release(zygote, healthy=True)
    assert zygote.host_pid is not None and zygote.alive()
    return zygote.host_pid


def test_the_detector_sees_what_the_attack_leaves_when_they_share_a_process(tmp_path: Path) -> None:
    """The control: without a fresh process per submission, the detector below raises."""
    token = uuid.uuid4().hex
    attack = (ATTACKS / "poisons_the_warm_worker.py").read_text(encoding="utf-8").replace("{TOKEN}", token)
    detect = (ATTACKS / "finds_what_was_left.py").read_text(encoding="utf-8").replace("{TOKEN}", token)
    # Without the process-leaving part (this runs on the test machine, unsandboxed).
    attack = attack.split("if _os.fork() == 0:")[0]
    script = tmp_path / "both.py"
    script.write_text(f"import os\nos.chdir({str(tmp_path)!r})\n" + attack.replace('"/tmp", "/home/student", "/dev/shm", "/", "/dev", "/grader", ', "")
                      .replace("_threading.Thread(target=_time.sleep, args=(300,), daemon=False).start()", "")
                      + "\n" + detect.replace('"/tmp", "/home/student", "/dev/shm", "/", "/dev", "/grader", ', ""),
                      encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    for what in ("globals", "patched torch", "seeded torch", "file in"):
        assert what in proc.stderr, proc.stderr


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_a_submission_cannot_reach_the_next_one_or_the_warm_process(kind: str, tmp_path: Path) -> None:
    token = uuid.uuid4().hex
    zygote = _serving_zygote()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        attacked = run_grade(with_attack("poisons_the_warm_worker.py", kind, tmp_path / "a", TOKEN=token),
                             *FAST, cwd=tmp_path / "a")
        # It wrote where it could, saw the zygote in /proc, and could neither read nor signal it.
        assert "ATTACK written: ['/tmp', '/home/student', '/dev/shm'] reached: ['saw " in attacked.report["stderr"]
        assert "read " not in attacked.report["stderr"].replace("reached", ""), attacked.report["stderr"]
        assert "unmounted" not in attacked.report["stderr"] and "remounted" not in attacked.report["stderr"]
        assert _processes_with(token) == []  # the run's processes ended with it
        assert _serving_zygote() == zygote  # the zygote lived through it and serves the next one
        detected = run_grade(with_attack("finds_what_was_left.py", kind, tmp_path / "b", TOKEN=token),
                             *FAST, cwd=tmp_path / "b")
    finally:
        for pid in _processes_with(token):
            subprocess.run(["kill", "-9", str(pid)], check=False)
    assert _serving_zygote() == zygote
    report = json.dumps(detected.report)
    assert "left by an earlier submission" not in report, report[:3000]
    assert detected.report["score"] == 25, report[:3000]
    assert attacked.report["score"] == 25  # the attack itself breaks none of its own answers


@pytest.mark.parametrize(("kind", "override"), [
    # Each case pays a cold grade: one per thing a fork could change (values and figures, output and warnings,
    # a crash, a cell error), in the format where it is most at risk.
    ("py", "forgets_zero_grad"), ("py", "warns_and_writes_stderr"),
    ("ipynb", "kills_its_kernel_in_a_call"), ("ipynb", "raises_in_a_cell"),
])
def test_warm_and_cold_runs_give_byte_identical_reports(override: str, kind: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same submission graded from a warm zygote and from a cold start: the same JSON report, byte for byte
    (output, warnings, tracebacks, a crash, a cell error: what a fork could change if it leaked the zygote's state)."""
    from conftest import SUBMISSIONS, apply_override
    from grader.config import Limits
    from grader.pipeline import grade
    from grader.reporting import write_json

    path = apply_override(SUBMISSIONS / f"lab2/overrides/{override}.py", kind, tmp_path)
    limits = Limits(call=10, cell=30)
    write_json(grade(path, "lab2", limits), tmp_path / "warm.json")
    monkeypatch.setenv("GRADER_WARM", "0")
    write_json(grade(path, "lab2", limits), tmp_path / "cold.json")
    warm, cold = (tmp_path / "warm.json").read_bytes(), (tmp_path / "cold.json").read_bytes()
    assert warm == cold, (warm.decode()[:3000], cold.decode()[:3000])
    report = json.loads(warm)
    assert report["score"] < 25 or report["stderr"] or report["issues"]  # not two uneventful reports


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_string_hashes_are_the_same_in_every_run_warm_or_cold(kind: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The student's environment says PYTHONHASHSEED=0, so a set of strings iterates in one order in every run.
    A Python started with -I ignores PYTHON* variables: the `.py` harness and the zygote (so every warm run) drew
    a random hash seed, and a value that depends on that order changed from one grade to the next."""
    from conftest import as_kind
    from grader.config import Limits
    from grader.pipeline import grade

    seed0 = subprocess.run([sys.executable, "-c", "print(hash('grader'))"], env={"PYTHONHASHSEED": "0"},
                           capture_output=True, text=True, check=True).stdout.strip()
    source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8").replace(
        "    return x * W + b\n", f"    return x * W + b if hash('grader') == {seed0} else x * W\n", 1)
    assert f"== {seed0}" in source
    (tmp_path / "src.py").write_text(source, encoding="utf-8")
    scores = []
    for warm in ("1", "0"):
        monkeypatch.setenv("GRADER_WARM", warm)
        (tmp_path / warm).mkdir()
        scores.append(grade(as_kind(tmp_path / "src.py", kind, tmp_path / warm), "lab2", Limits(call=10, cell=30)).score)
    assert scores == [25, 25]


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_the_memory_limit_leaves_a_warm_run_and_a_cold_one_the_same_room(kind: str, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """--memory counts from the student's first line (a notebook's first cell). A cold start has been charged
    Python and torch by then (about 190 MiB) and a fork of the warm zygote almost nothing: 150 MiB kept at the
    top level at --memory 300 scored 25/25 warm and 3/25 cold; a notebook's cold kernel imported torch only in
    the student's first cell, and failed at 200. Bounded by the limit under test: nothing here takes more."""
    from conftest import as_kind
    from grader.config import Limits
    from grader.pipeline import grade

    limits = Limits(call=10, cell=30, memory_mib=300)
    scores: dict[str, list[float]] = {}
    for mib in (150, 330):
        source = (ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8") + f"\n# %%\nkept = torch.ones({mib} * 2**18)\n"
        (tmp_path / f"{mib}.py").write_text(source, encoding="utf-8")
        for warm in ("1", "0"):
            monkeypatch.setenv("GRADER_WARM", warm)
            (tmp_path / f"{mib}-{warm}").mkdir()
            path = as_kind(tmp_path / f"{mib}.py", kind, tmp_path / f"{mib}-{warm}")
            scores.setdefault(str(mib), []).append(grade(path, "lab2", limits).score)
    assert scores["150"] == [25, 25] and scores["330"][0] == scores["330"][1] < 25, scores


def test_no_zygote_is_started_where_the_limits_come_from_a_systemd_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """A systemd scope can only hold a process systemd starts: there runs start cold, and no zygote
    is started only to be thrown away (an unprivileged laptop would pay its start-up per grade)."""
    from grader.runner import cgroups, warm

    assert warm.enabled()  # this machine: cgroups the grader may create, so warm runs
    assert cgroups.limits_method() in ("cgroup v1", "cgroup v2")
    monkeypatch.setattr(cgroups, "make_box", lambda limits: cgroups.Box("systemd scope"))
    cgroups.limits_method.cache_clear()
    try:
        assert cgroups.limits_method() == "systemd scope"
        assert not warm.enabled()
        warm.prestart()
        assert not warm._pending
    finally:
        cgroups.limits_method.cache_clear()


def test_prestart_returns_once_the_warm_sandbox_has_started() -> None:
    """The grader's next step after `prestart` is importing torch, which holds the GIL while libtorch
    loads (0.1-0.2 s): a starting thread that had not reached its Popen by then waited that long
    (measured: the zygote launched 214 ms after `prestart` instead of 10 ms, in 2 of 4 first grades)."""
    script = """
import os
from pathlib import Path
from grader.runner import warm
assert warm.enabled()
warm.prestart()
children = []
for entry in Path("/proc").iterdir():
    try:
        status = (entry / "status").read_text()
    except OSError:
        continue
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if int(fields.get("PPid", "0")) == os.getpid():
        children.append(fields["Name"].strip())
print(children)
assert "bwrap" in children, children
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_warm_sandbox_that_failed_to_start_does_not_fail_every_later_run() -> None:
    """A start that fails with an OSError (a fork refused with EAGAIN, no folder for it) went back
    among the pending starts, so every later `acquire` in the process raised it again: a batch
    worker then gave every later entry a grader error. Now it is a failed start like any other:
    the next `acquire` starts a zygote afresh."""
    script = """
import errno
from grader.runner import warm
assert warm.enabled()
real = warm.Zygote
tries = []
class FailsOnce(real):
    def __init__(self, *args, **kwargs):
        tries.append(1)
        if len(tries) == 1:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        super().__init__(*args, **kwargs)
warm.Zygote = FailsOnce
warm.prestart()
zygote = warm.acquire()
assert zygote.alive() and len(tries) == 2, tries
warm.release(zygote, healthy=True)
assert not warm._pending and warm.acquire() is zygote
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr[-3000:]


def test_a_process_that_leaves_while_its_warm_sandbox_starts_kills_it_instead_of_waiting(tmp_path: Path) -> None:
    """A Ctrl-C, a stopped service or a batch's stop can end a process while its zygote still imports torch
    (over 30 s under load): the process leaves at once, and the zygote and its folder go with it. Here the
    zygote never becomes ready, so a process that waits for it would take its start-up timeout (120 s)."""
    never_ready = tmp_path / "zygote.py"
    never_ready.write_text("import time\ntime.sleep(600)\n", encoding="utf-8")
    script = f"""
import sys, time
from pathlib import Path
from grader.runner import warm
assert warm.enabled()
warm.ZYGOTE = Path({str(never_ready)!r})
warm.prestart()
limit = time.monotonic() + 60
while not warm._starting and time.monotonic() < limit:
    time.sleep(0.05)
(zygote,) = tuple(warm._starting)
assert zygote.alive()
print(zygote.exchange, zygote._proc.pid, flush=True)
sys.exit(0)  # the interpreter's exit: atexit handlers, and whatever Python joins before them
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise AssertionError(f"the process waited for a warm sandbox that was still starting: {stdout}")
    assert proc.returncode == 0, stderr
    exchange, bwrap = stdout.split()
    assert not Path(exchange).exists()
    assert not Path(f"/proc/{bwrap}").exists() or "Z" in Path(f"/proc/{bwrap}/stat").read_text().split(")")[1][:3]


def test_a_warm_sandbox_started_before_a_lab_folder_was_named_is_not_reused_for_it(tmp_path: Path) -> None:
    """A warm sandbox covers the grader and the instructor's labs known when it starts. One process
    grading a second lab folder (the tests' in-process grades; any caller of the pipeline) took the
    idle one that did not cover that folder; it now starts one that does."""
    labs = tmp_path / "labs"
    labs.mkdir()
    script = f"""
import os
from pathlib import Path
from grader.runner import warm
first = warm.acquire()
warm.release(first, healthy=True)
assert warm.acquire() is first  # the same labs: reused
warm.release(first, healthy=True)
os.environ["GRADER_LABS"] = {str(labs)!r}
second = warm.acquire()
assert second is not first and not first.alive(), "the old sandbox was reused"
assert Path({str(labs)!r}) in second.hidden and Path({str(labs)!r}) not in first.hidden
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr[-3000:]
