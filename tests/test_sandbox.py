"""The attack catalogue: what a hostile submission tries, graded as what it honestly earns, and contained.

Every case runs the real `grade` command with the real sandbox (bubblewrap). Each attack is
a block appended to lab 2's solution (tests/submissions/attacks/), so an attack that breaks
nothing still scores 25/25 and one that gains nothing is visible as such. What happened
inside comes back through the submission's own stderr (shown in the report). Each attack is
bounded by construction (at most 200 forks, 3 GiB, 2 GiB written per folder, a 300 s sleep),
so a failing sandbox cannot hurt the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest

from conftest import GRADE, ROOT, SUBMISSIONS, run_grade

ATTACKS = SUBMISSIONS / "attacks"
FAST = ("--call-timeout", "10", "--cell-timeout", "30")


@pytest.fixture(autouse=True, scope="module")
def needs_bubblewrap() -> None:
    from grader.runner.sandbox import bubblewrap_problem

    problem = bubblewrap_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must exercise the real sandbox: {problem}")
        pytest.skip(problem)


def with_attack(attack: str, kind: str, dest: Path, **fill: str) -> Path:
    """Lab 2's solution with an attack appended (a last cell for notebooks)."""
    block = (ATTACKS / attack).read_text(encoding="utf-8")
    for key, value in fill.items():
        block = block.replace("{" + key + "}", value)
    if kind == "py":
        path = dest / "lab2.py"
        path.write_text((ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8") + "\n\n" + block, encoding="utf-8")
        return path
    nb = nbformat.read(str(ROOT / "solutions/lab2/lab2.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(block))
    path = dest / "lab2.ipynb"
    nbformat.write(nb, str(path))
    return path


def attack_report(graded: Any) -> dict[str, Any]:
    lines = [line for line in graded.report["stderr"].splitlines() if "ATTACK {" in line]
    assert lines, f"the attack did not report (stderr: {graded.report['stderr'][:2000]!r})"
    return dict(json.loads(lines[-1].split("ATTACK ", 1)[1]))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Listener:
    """A TCP server on the host's loopback that records whether anyone got through."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def _site_packages() -> Path:
    return Path(next(p for p in sys.path if p.endswith("site-packages")))


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_looking_around_finds_nothing_and_changes_nothing(kind: str, tmp_path: Path) -> None:
    import torch

    secret_connection_file = Path("/tmp") / f"kernel-grader-test-{uuid.uuid4().hex}.json"
    secret_connection_file.write_text('{"key": "not for students"}', encoding="utf-8")
    to_read = {
        "the solution": ROOT / "solutions/lab2/lab2.py",
        "the hidden suite": ROOT / "grader/labs/lab2/checks/test_lab2.py",
        "the installed copy of the solution": _site_packages() / "grader/_course/solutions/lab2/lab2.py",
        "another kernel's connection file": secret_connection_file,
        "the grader's home": Path.home() / ".bashrc",
    }
    to_change = {
        "the grader's code": ROOT / "grader/__init__.py",
        "the solution": ROOT / "solutions/lab2/lab2.py",
        "torch in the virtual environment": Path(torch.__file__),
        "the environment's python": Path(sys.prefix) / "pyvenv.cfg",
    }
    before = {name: _sha256(path) for name, path in to_change.items()}
    listener = _Listener()
    try:
        submission = with_attack("looks_around.py", kind, tmp_path, PORT=str(listener.port),
                                 PATHS_TO_READ=repr({k: str(v) for k, v in to_read.items()}),
                                 PATHS_TO_CHANGE=repr({k: str(v) for k, v in to_change.items()}))
        graded = run_grade(submission, *FAST, cwd=tmp_path)
    finally:
        listener.close()
        secret_connection_file.unlink()
    found = attack_report(graded)
    assert found["import_grader_reference"].startswith("blocked"), found
    for name in to_read:
        assert found[f"read {name}"].startswith("blocked"), (name, found)
    for name in to_change:
        assert found[f"change {name}"].startswith("blocked"), (name, found)
    assert {name: _sha256(path) for name, path in to_change.items()} == before
    assert found["connect to a server on the host's 127.0.0.1"].startswith("blocked"), found
    assert listener.connections == 0
    assert found["network interfaces"] == "done: ['lo']", found
    assert "'grader_like': []" in found["kill the grader"], found
    # Contained, and graded as what it honestly is: the solution.
    assert graded.report["score"] == 25 and graded.returncode == 0, graded.stdout[-2000:]
    assert graded.report["isolation"].startswith("bubblewrap")


def test_a_fork_bomb_is_contained(tmp_path: Path) -> None:
    graded = run_grade(with_attack("forks_200.py", "py", tmp_path), *FAST, "--processes", "64", cwd=tmp_path)
    found = attack_report(graded)
    assert 0 < found["forked"] < 64, found
    assert graded.report["score"] == 25, graded.stdout[-2000:]


def test_a_submission_gets_one_cpu_however_many_processes_spin(tmp_path: Path) -> None:
    """Three processes, each in a session of its own, spin for 2 s: without a CPU limit they took both
    cores (a red-team review slowed the student graded beside them 4.6x, and a longer spin would have
    run that student past their time limits). The run's cgroup holds it to one CPU."""
    if os.cpu_count() == 1:
        pytest.skip("one core: nothing to share")
    graded = run_grade(with_attack("spins_every_core.py", "py", tmp_path), *FAST, cwd=tmp_path)
    found = attack_report(graded)
    assert found["cpus"] < 1.25, found
    assert graded.report["score"] == 25, graded.stdout[-2000:]


def test_filling_the_disk_stops_at_the_limit(tmp_path: Path) -> None:
    graded = run_grade(with_attack("fills_the_disk.py", "py", tmp_path), *FAST, "--disk", "256", cwd=tmp_path)
    found = attack_report(graded)
    for where in ("/tmp", "/home/student"):
        assert found[where] <= 256 * 2**20, found
        assert f"{where} error" in found, found
    assert graded.report["score"] == 25, graded.stdout[-2000:]


def processes_with(token: str, where: str = "cmdline") -> list[int]:
    """The processes whose /proc/<pid>/<where> (cmdline, or comm: a name a process gave itself) holds `token`."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if token.encode() in Path(f"/proc/{entry.name}/{where}").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_nothing_outlives_the_grading(tmp_path: Path) -> None:
    token = f"grader-stray-{uuid.uuid4().hex}"
    graded = run_grade(with_attack("outlives_grading.py", "py", tmp_path, TOKEN=token), *FAST, cwd=tmp_path)
    survivors = processes_with(token)
    for pid in survivors:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
    assert graded.report["score"] == 25, graded.stdout[-2000:]


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_running_out_of_memory_ends_the_run_and_keeps_what_was_answered(kind: str, tmp_path: Path) -> None:
    graded = run_grade(with_attack("grabs_memory.py", kind, tmp_path), *FAST, "--memory", "1024", cwd=tmp_path)
    scores = graded.function_scores()
    for function in ("hypothesis", "mse_cost", "gradient", "train_step"):
        assert scores[function][0] == scores[function][1], (function, scores)
    assert scores["train"][0] == 0
    memory = [i for i in graded.report["issues"] if i["kind"] == "memory_limit"]
    assert memory and "train" in memory[0]["message"] and "memory limit exceeded" in memory[0]["message"], \
        graded.report["issues"]
    assert graded.returncode == 1


def test_a_batch_keeps_students_apart(tmp_path: Path) -> None:
    """During a --jobs 2 batch, one student tries to read the other's file and to write the batch's records."""
    import shutil

    klass, out = tmp_path / "class", tmp_path / "out"
    klass.mkdir()
    (klass / "victim").mkdir()
    shutil.copy(ROOT / "solutions/lab2/lab2.py", klass / "victim/lab2.py")
    (klass / "attacker").mkdir()
    victim_file = klass / "victim/lab2.py"
    # The batch's own files, which a resumed batch would read back.
    out_targets = {"the batch's output folder": out / "students/attacker/record.json", "the gradebook": out / "gradebook.csv"}
    block = (ATTACKS / "looks_around.py").read_text(encoding="utf-8")
    block = (block.replace("{PATHS_TO_READ}", repr({"another student's submission": str(victim_file)}))
                  .replace("{PATHS_TO_CHANGE}", repr({k: str(v) for k, v in out_targets.items()}))
                  .replace("{PORT}", "9"))
    (klass / "attacker/lab2.py").write_text("raise_nothing = 1\n" + block, encoding="utf-8")
    run = subprocess.run([str(GRADE), "batch", str(klass), "--lab", "lab2", "--out", str(out), "--jobs", "2", *FAST],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stderr
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    students = {s["student"]: s for s in results["students"]}
    assert students["victim"]["score"] == 25
    assert students["attacker"]["score"] == 0
    report = json.loads(next((out / "students").glob("attacker*/result.json")).read_text(encoding="utf-8"))
    lines = [line for line in report["stderr"].splitlines() if "ATTACK {" in line]
    found = json.loads(lines[-1].split("ATTACK ", 1)[1])
    assert found["read another student's submission"].startswith("blocked"), found
    for name in out_targets:
        assert found[f"change {name}"].startswith("blocked"), found


def test_without_bubblewrap_grade_warns_and_runs_unsandboxed(tmp_path: Path) -> None:
    """What a student on macOS (or in a container without user namespaces) sees."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no bwrap on this PATH
    out = tmp_path / "report.json"
    run = subprocess.run([str(GRADE), str(ROOT / "solutions/lab2/lab2.py"), "--json", str(out)], env=env,
                         capture_output=True, text=True, timeout=300)
    warnings = [line for line in run.stderr.splitlines() if line.startswith("grade: warning:")]
    assert len(warnings) == 1 and "unsandboxed" in warnings[0], run.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["score"] == 25 and run.returncode == 0
    assert report["isolation"].startswith("process")


@pytest.mark.parametrize("name", ["uses_the_reference", "execs_the_installed_solution"])
def test_answers_from_the_graders_own_files_are_out_of_reach(name: str, tmp_path: Path) -> None:
    path = tmp_path / "lab2.py"
    path.write_text((ATTACKS / f"{name}.py").read_text(encoding="utf-8"), encoding="utf-8")
    graded = run_grade(path, *FAST, cwd=tmp_path)
    assert graded.report["score"] == 0, [(c["name"], c["status"]) for c in graded.report["checks"]]
    assert graded.returncode == 1


def test_another_checkout_of_the_grader_on_its_path_is_out_of_reach_too(tmp_path: Path) -> None:
    """The grader run from one checkout (on PYTHONPATH) while the environment also holds another
    (an editable install of this repository): the other one's solutions are answers too."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "grader", checkout / "grader", ignore=shutil.ignore_patterns("__pycache__", "_course"))
    shutil.copytree(ROOT / "solutions", checkout / "solutions")
    shutil.copy(ROOT / "pyproject.toml", checkout / "pyproject.toml")
    (tmp_path / "work").mkdir()
    here = subprocess.run([sys.executable, "-c", "import grader, sys; print(grader.__file__); print(sys.path)"],
                          env={**os.environ, "PYTHONPATH": str(checkout)}, cwd=tmp_path / "work",
                          capture_output=True, text=True, check=True)
    assert here.stdout.startswith(str(checkout / "grader")) and str(ROOT) in here.stdout, here.stdout  # both on the path
    path = tmp_path / "work" / "lab2.py"
    path.write_text((ATTACKS / "execs_the_installed_solution.py").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "work" / "report.json"
    run = subprocess.run([sys.executable, "-m", "grader", str(path), "--lab", "lab2", "--json", str(out), *FAST],
                         env={**os.environ, "PYTHONPATH": str(checkout)}, cwd=tmp_path / "work",
                         capture_output=True, text=True, timeout=300)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["score"] == 0 and run.returncode == 1, [(c["name"], c["status"]) for c in report["checks"]]
    assert report["isolation"].startswith("bubblewrap"), report["isolation"]


def test_without_bubblewrap_a_batch_refuses_unless_told(tmp_path: Path) -> None:
    """A class is never graded unsandboxed by accident; --unsandboxed says so on purpose."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no bwrap on this PATH
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "ann.py").write_text("def hypothesis(x, W, b):\n    return x * W + b\n")
    run = subprocess.run([str(GRADE), "batch", str(tmp_path / "class"), "--lab", "lab2", "--out", str(tmp_path / "out")],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "--unsandboxed" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "out" / "gradebook.csv").exists()
    run = subprocess.run([str(GRADE), "batch", str(tmp_path / "class"), "--lab", "lab2", "--out", str(tmp_path / "out"),
                          "--unsandboxed", *FAST], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    student = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["students"][0]
    assert student["result"]["isolation"].startswith("process") and student["score"] == 3  # hypothesis: its 3 points


@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_a_python_environment_under_tmp_is_still_seen_inside(kind: str, tmp_path: Path) -> None:
    """CI may clone (and make its venv) under /tmp, which the sandbox (and each warm run) replaces
    with its own tmpfs. The submission imports a module found only in that environment, after the
    warm worker started: it must still be there."""
    import site
    import sysconfig

    env_dir = tmp_path / "venv"  # tmp_path is under /tmp
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    packages = Path(sysconfig.get_paths(vars={"base": str(env_dir), "platbase": str(env_dir)})["purelib"])
    (packages / "outer.pth").write_text("\n".join([*site.getsitepackages(), str(ROOT)]) + "\n", encoding="utf-8")
    (packages / "only_in_the_tmp_venv.py").write_text("VALUE = 1\n", encoding="utf-8")
    (tmp_path / "plain").mkdir()
    submission = with_attack("imports_from_the_environment.py", kind, tmp_path / "plain")
    out = tmp_path / "report.json"
    run = subprocess.run([str(env_dir / "bin" / "python"), "-m", "grader", str(submission),
                          "--json", str(out), *FAST], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["isolation"].startswith("bubblewrap") and report["score"] == 25, report["stderr"][-2000:]
    assert report["issues"] == [], report["issues"]

@pytest.mark.parametrize("kind", ["py", "ipynb"])
def test_the_folder_python_m_grader_runs_in_stays_out_of_reach(kind: str, tmp_path: Path) -> None:
    """`python -m grader` (the console script aside, how a batch's workers and some users start it) puts
    its working folder on sys.path, and the sandbox shows the student's Python its sys.path. Started
    in a class folder, that would hand every submission the others' files."""
    classroom = tmp_path / "classroom"
    (classroom / "another-student").mkdir(parents=True)
    answer = classroom / "another-student" / "lab2.py"
    answer.write_text("ANOTHER STUDENT'S ANSWER\n", encoding="utf-8")
    (tmp_path / "mine").mkdir()
    submission = with_attack("reads_the_working_folder.py", kind, tmp_path / "mine",
                             PATHS=repr({"another student's file": str(answer)}), FOLDER=repr(str(classroom)))
    out = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "grader", str(submission), "--json", str(out), *FAST],
                         capture_output=True, text=True, timeout=300, cwd=classroom)
    report = json.loads(out.read_text(encoding="utf-8"))
    lines = [line for line in report["stderr"].splitlines() if "ATTACK {" in line]
    assert lines, run.stderr[-2000:]
    found = json.loads(lines[-1].split("ATTACK ", 1)[1])
    assert found["another student's file"].startswith("blocked"), found
    assert found["sys.path holds the working folder"] == "False", found
    assert report["score"] == 25 and report["isolation"].startswith("bubblewrap"), report["stderr"][-2000:]
