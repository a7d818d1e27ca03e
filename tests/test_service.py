"""The warm grader (grader/service): later `grade` commands are served by a background service.

Every test runs the real `grade` script as a process, with the service on, its socket folder
under the test's own TMPDIR and a short idle time; whatever service a test started is stopped
when it ends. The sandbox is real (the service grades like a batch worker).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import GRADE, ROOT, interruptible
from test_sandbox import with_attack

EXAMPLE = ROOT / "docs" / "example-lab" / "logistic"


@pytest.fixture(autouse=True, scope="module")
def needs_warm_runs() -> None:
    from grader.runner.warm import enabled

    if not enabled():
        if os.environ.get("CI"):
            pytest.fail("CI must exercise the warm sandboxed runs the service is made of")
        pytest.skip("no warm sandboxed runs on this machine")


def _services(tmp_path: Path) -> list[int]:
    """The services started under this test's folder (by their command line)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                command = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"grader.service.server" in command and any(str(tmp_path).encode() in part for part in command):
                found.append(int(proc.name))
    return found


def _mentioning(folder: Path) -> set[int]:
    """Every process whose command line names something under `folder` (a service, its warm sandbox)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(folder).encode() in (proc / "cmdline").read_bytes():
                    found.add(int(proc.name))
            except OSError:
                continue
    return found


def _descendants(pid: int) -> set[int]:
    below, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in below:
                    below.add(child)
                    frontier.append(child)
    return below


def _gone(pids: set[int], within: float) -> bool:
    limit = time.monotonic() + within
    while time.monotonic() < limit:
        if not any(Path(f"/proc/{p}").exists() and "Z" not in _state(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


@pytest.fixture
def temporary() -> Iterator[Path]:
    """The test's TMPDIR: short, as kernels' socket paths under it must be (108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="gsvc-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def env(temporary: Path) -> Iterator[dict[str, str]]:
    """The service on, its folder under this test's TMPDIR; every service it started is stopped after."""
    environ = {**os.environ, "GRADER_SERVICE": "1", "GRADER_SERVICE_IDLE": "120", "TMPDIR": str(temporary)}
    environ.pop("XDG_RUNTIME_DIR", None)
    yield environ
    for pid in _services(temporary):
        os.kill(pid, signal.SIGTERM)
    leftovers = set(_services(temporary))
    if not _gone(leftovers, 30):
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)


def grade(env: dict[str, str], *args: str, cwd: Path, timing: bool = False) -> subprocess.CompletedProcess[str]:
    """`grade` as a student runs it; with `timing`, Python lists every module the client imports (stderr)."""
    extra = {"PYTHONPROFILEIMPORTTIME": "1"} if timing else {}
    return subprocess.run([str(GRADE), *args], cwd=cwd, env={**env, **extra}, capture_output=True, text=True,
                          timeout=300)


NOTICE = "a warm grader now runs in the background"


def _imports_torch(run: subprocess.CompletedProcess[str]) -> bool:
    return any(line.startswith("import time:") and line.split("|")[-1].strip() == "torch"
               for line in run.stderr.splitlines())


def test_later_grades_are_served_warm_and_report_the_same_bytes(env: dict[str, str], temporary: Path, tmp_path: Path) -> None:
    cases = [(ROOT / "solutions/lab2/lab2.ipynb", 0), (ROOT / "exercises/lab3/lab3.py", 1)]
    first_service: list[int] = []
    for index, (path, status) in enumerate(cases):
        runs = {}
        for how in ("alone", "served"):
            folder = tmp_path / f"{index}-{how}"
            folder.mkdir()
            how_env = {**env, "GRADER_SERVICE": "0"} if how == "alone" else env
            runs[how] = grade(how_env, str(path), "--json", "r.json", "--html", "r.html", cwd=folder, timing=True)
            assert runs[how].returncode == status, runs[how].stderr[-3000:]
        alone, served = (tmp_path / f"{index}-alone", tmp_path / f"{index}-served")
        assert (served / "r.json").read_bytes() == (alone / "r.json").read_bytes()
        assert (served / "r.html").read_bytes() == (alone / "r.html").read_bytes()
        assert runs["served"].stdout == runs["alone"].stdout
        # Graded in the service: the `grade` that was served never imported torch; the one alone did.
        assert _imports_torch(runs["alone"]) and not _imports_torch(runs["served"])
        assert (NOTICE in runs["served"].stderr) == (index == 0)  # the first grade started it
        services = _services(temporary)
        assert len(services) == 1
        first_service = first_service or services
        # The `grade` that started it said what it would send: its warm sandbox was started for a notebook.
        command = Path(f"/proc/{services[0]}/cmdline").read_bytes().split(b"\0")
        assert command[-3:] == [b"--prestart", b"ipynb", b""], command
        assert services == first_service  # the same service served every later grade


def test_a_student_cannot_reach_the_service(env: dict[str, str], temporary: Path, tmp_path: Path) -> None:
    """The service's socket is on the grader's side of the wall: the sandbox sees neither its folder
    nor the host's network namespace, where an abstract socket would live."""
    warm_up = grade(env, str(ROOT / "solutions/lab2/lab2.py"), "--quiet", cwd=tmp_path)
    assert warm_up.returncode == 0, warm_up.stderr
    sockets = sorted(temporary.rglob("*.sock"))
    assert len(sockets) == 1
    fill = {"SOCKETS": repr([str(s) for s in sockets]), "FOLDERS": repr([str(temporary), "/tmp", "/run"])}
    # The same probe on the grader's side (looking in the service's folder only) finds the socket and gets in.
    probe = (ROOT / "tests/submissions/attacks/calls_the_service.py").read_text(encoding="utf-8")
    for key, value in {**fill, "FOLDERS": repr([str(temporary)])}.items():
        probe = probe.replace("{" + key + "}", value)
    outside = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    found_outside = json.loads(outside.stderr.split("ATTACK ", 1)[1])
    assert found_outside["connect " + str(sockets[0])].startswith("done"), found_outside
    assert found_outside["sockets seen"] == repr([str(sockets[0])]), found_outside
    (tmp_path / "sub").mkdir()
    submission = with_attack("calls_the_service.py", "py", tmp_path / "sub", **fill)
    run = grade(env, str(submission), "--json", "r.json", cwd=tmp_path)
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    lines = [line for line in report["stderr"].splitlines() if "ATTACK {" in line]
    assert lines, report["stderr"][-2000:]
    found = json.loads(lines[-1].split("ATTACK ", 1)[1])
    assert all(v.startswith("blocked") for k, v in found.items() if k.startswith("connect")), found
    assert found["sockets seen"] == "[]", found
    assert report["score"] == 25 and run.returncode == 0 and NOTICE not in run.stderr


def test_a_grade_that_goes_away_stops_its_grading_and_the_service(env: dict[str, str], temporary: Path, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    hanging = tmp_path / "sub" / "lab2.py"
    hanging.write_text((ROOT / "solutions/lab2/lab2.py").read_text(encoding="utf-8")
                       + "\nimport time\ntime.sleep(300)\n", encoding="utf-8")
    client = subprocess.Popen([str(GRADE), str(hanging), "--quiet"], cwd=tmp_path, env=env, preexec_fn=interruptible,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Until the submission runs: a fork of the warm sandbox's Python (a service starts its sandbox before it
        # reads a request, so a bwrap alone came before this grade reached it; a Ctrl-C then left the service
        # warm for the next grade, as a finished grade does, and this test waited for it in vain).
        below: set[int] = set()
        limit = time.monotonic() + 60
        while time.monotonic() < limit and not _running_a_submission(below):
            time.sleep(0.2)
            services = _services(temporary)
            below = set().union(*(_descendants(s) | {s} for s in services)) if services else set()
        assert _running_a_submission(below), "the service never ran the submission"
        client.send_signal(signal.SIGINT)  # Ctrl-C
        _, stderr = client.communicate(timeout=30)
        assert client.returncode == 130, stderr
        # A stop that lands while the warm sandbox is still starting kills it rather than waiting for it. The
        # bound stays generous: in one fresh-clone run under the suite's load, 30 s was not enough (when the
        # zygotes' starter was a ThreadPoolExecutor, whose thread Python joins at exit before atexit handlers).
        assert _gone(below, 90), {p: _comm(p) for p in below if Path(f"/proc/{p}").exists()}
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert not list(temporary.rglob("*.sock"))


def test_a_ctrl_c_while_the_service_starts_stops_the_service_this_grade_started(
        env: dict[str, str], temporary: Path, tmp_path: Path) -> None:
    """A student who presses Ctrl-C during a first grade, while the service it started still imports torch,
    gets nothing left running: the service goes as it does when the Ctrl-C comes during the grading (it was
    left warm for ten minutes, and this grade had not yet said that one runs)."""
    (tmp_path / "sub").mkdir()
    shutil.copy(ROOT / "solutions/lab2/lab2.py", tmp_path / "sub" / "lab2.py")
    client = subprocess.Popen([str(GRADE), str(tmp_path / "sub" / "lab2.py")], cwd=tmp_path, env=env,
                              preexec_fn=interruptible, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        limit = time.monotonic() + 60
        while time.monotonic() < limit and not _services(temporary) and client.poll() is None:
            time.sleep(0.01)
        services = set(_services(temporary))
        assert services, "no service started"
        assert not list(temporary.rglob("*.sock")), "the service listened already: too late to test its start"
        client.send_signal(signal.SIGINT)  # Ctrl-C
        _, stderr = client.communicate(timeout=60)
        assert client.returncode == 130, stderr
        assert NOTICE not in stderr
        assert _gone(services, 60), "the service this grade started is still running"
        assert _gone(_mentioning(temporary), 60), "its warm sandbox is still running"
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert not list(temporary.rglob("*.sock"))


def test_a_starting_service_starts_its_warm_sandbox_before_the_request_comes(env: dict[str, str], temporary: Path) -> None:
    """Most of a first grade is the warm sandbox's start-up (Python and torch inside it): the service
    starts it before it listens, not after it has read the request and imported the grader (0.1 s later)."""
    socket_path = temporary / "s.sock"
    service = subprocess.Popen([sys.executable, "-P", "-m", "grader.service.server", str(socket_path), "--prestart", "py"],
                               cwd="/", env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        limit = time.monotonic() + 60
        while not socket_path.exists() and service.poll() is None and time.monotonic() < limit:
            time.sleep(0.01)
        assert socket_path.exists(), service.stderr.read().decode() if service.poll() is not None else "not listening"
        assert "bwrap" in {_comm(pid) for pid in _descendants(service.pid)}
    finally:
        service.terminate()
        service.wait(timeout=60)


def _running_a_submission(below: set[int]) -> bool:
    """A process below a service forked from the warm sandbox's Python: a run, whose parent is that Python."""
    for pid in below:
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent in below and _comm(pid).startswith("python") and _comm(parent).startswith("python"):
            return True
    return False


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_a_changed_lab_gets_a_fresh_service_and_grade_stop_ends_it(env: dict[str, str], temporary: Path, tmp_path: Path) -> None:
    labs = tmp_path / "labs"
    shutil.copytree(EXAMPLE, labs / "logistic")
    env = {**env, "GRADER_LABS": str(labs)}
    solution = next((labs / "logistic" / "solution").glob("logistic.*"))
    first = grade(env, str(solution), cwd=tmp_path)
    assert first.returncode == 0 and NOTICE in first.stderr, first.stderr
    [before] = _services(temporary)
    again = grade(env, str(solution), "--quiet", cwd=tmp_path)
    assert again.returncode == 0 and NOTICE not in again.stderr and _services(temporary) == [before]
    data = labs / "logistic" / "data.py"
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 10**9))  # the instructor edits the lab
    changed = grade(env, str(solution), cwd=tmp_path)
    assert changed.returncode == 0 and NOTICE in changed.stderr, changed.stderr
    assert _gone({before}, 30)
    [after] = _services(temporary)
    assert after != before
    sandbox = _descendants(after)
    assert "bwrap" in {_comm(pid) for pid in sandbox}
    stop = subprocess.run([str(GRADE), "stop"], env=env, capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0 and stop.stdout.strip() == "stopped 1 warm grader(s)", stop
    # Gone when `grade stop` returns, with its warm sandbox: a `grade` right after meets no leaving service.
    assert [pid for pid in {after, *sandbox} if _state(pid) != "Z"] == []
    assert not list(temporary.rglob("*.sock"))


def test_grade_stop_from_another_pid_namespace_does_not_wait_for_what_it_cannot_see(
        env: dict[str, str], temporary: Path, tmp_path: Path) -> None:
    """From another pid namespace (a container sharing /tmp, a sandboxed terminal) the service's pid
    reads as 0: `grade stop` took that for a process to wait on, and with it every process whose
    parent is 0, itself included, so it waited its whole STOP_WAIT (10 s) every time."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--pid", "--fork", "true"], capture_output=True).returncode != 0:
        pytest.skip("no pid namespace can be made here")
    first = grade(env, str(ROOT / "solutions/lab2/lab2.py"), "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    [service] = _services(temporary)
    started = time.monotonic()
    stop = subprocess.run([unshare, "--pid", "--fork", "--mount-proc", str(GRADE), "stop"], env=env,
                          capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    assert stop.returncode == 0 and stop.stdout.strip() == "stopped 1 warm grader(s)", stop
    assert took < 5, f"grade stop took {took:.1f} s"  # (0.1 s; the wait it must not make is 10 s)
    assert _gone({service}, 30)


def test_a_socket_folder_others_can_open_is_not_used(env: dict[str, str], temporary: Path, tmp_path: Path) -> None:
    shared = temporary / f"grader-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    run = grade(env, str(ROOT / "solutions/lab2/lab2.py"), "--quiet", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == "lab2: 25/25", run.stderr
    assert _services(temporary) == [] and not list(shared.iterdir())
