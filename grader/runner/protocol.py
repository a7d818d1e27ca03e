"""What crosses the trust boundary: probe requests out, plain JSON values back.

The grader writes the probes (function names and inputs) to a file; the harness in
the student's process sends one JSON line per answer through the result channel
(grader/runner/channel.py), which parses them without running code: `json.loads` with
no object hooks, size and depth caps, and numbers only where numbers belong (NaN and
infinities travel as the strings "nan", "inf", "-inf"). Here the transcript of those
messages becomes one `ProbeOutcome` per probe, with the grader's own time-outs
overriding whatever the student's process claimed.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .watch import Transcript

HARNESS = Path(__file__).with_name("harness.py")
LAZY_DYNAMO = HARNESS.with_name("lazy_dynamo.py")  # beside the harness wherever it runs: see that file
KERNEL = HARNESS.with_name("kernel.py")  # a cold notebook kernel's start (beside the harness too)
# How the sandboxed Pythons start: `-I` without its `-E`. No user site folder and no script folder on sys.path,
# but the environment is read: it is the grader's own (jail.student_env), and its PYTHONHASHSEED=0 gives every
# run the same string hashes (the order a set of strings iterates in), which `-I` left to chance.
PYTHON_FLAGS = ("-s", "-P")


RECIPES = ("call", "call_backward", "steps", "module")  # how the harness can call a function (its RECIPES)


@dataclass(frozen=True)
class Probe:
    """One call of one student function, chosen by the grader.

    `recipe` names how the harness calls it ("call", "call_backward", "steps",
    "module"); `spec` holds the recipe's plain-JSON inputs.
    """

    id: str
    function: str
    recipe: str
    spec: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "function": self.function, "recipe": self.recipe, **self.spec}


class Outcome(StrEnum):
    OK = "ok"
    RAISED = "raised"  # the student's function raised (NotImplementedError included)
    MISSING = "missing"  # no such name in the submission
    TIMEOUT = "timeout"
    CRASHED = "crashed"  # the call's process died or exited without answering
    NOT_RUN = "not_run"  # the student's process ended before this probe


@dataclass(frozen=True)
class ProbeOutcome:
    outcome: Outcome
    result: Any = None  # plain JSON data (see harness.encode); only for OK
    exception: str = ""
    message: str = ""
    traceback: str = ""
    output: str = ""  # what the call printed
    seconds: float = 0.0


#: Seconds the definitions below a .py file's stopped top level get to run (grader/runner/harness.py).
REST_TIMEOUT = 3.0


def write_probes(path: Path, probes: list[Probe], call_timeout: float, output_chars: int,
                 load_timeout: float | None = None, rest_timeout: float = 0.0) -> None:
    """The probes and limits for the harness; a .py file's top level is stopped past `load_timeout`,
    and the definitions below where it stopped then get `rest_timeout` seconds."""
    data: dict[str, object] = {"protocol": 2, "call_timeout": call_timeout, "output_chars": output_chars,
                               "probes": [p.to_json() for p in probes]}
    if load_timeout is not None:
        data.update(load_timeout=load_timeout, rest_timeout=rest_timeout)
    path.write_text(json.dumps(data), encoding="utf-8")


DIED_IN_CALL = ("the process calling the functions died during this call (a signal to its parent, sys.exit, "
                "os._exit or a crash), so none of its answers are kept")


def read_outcomes(transcript: Transcript, probes: list[Probe], output_chars: int) -> dict[str, ProbeOutcome]:
    """One outcome per probe, from what the student's process said and what the grader saw."""
    outcomes: dict[str, ProbeOutcome] = {}
    died_in = transcript.current if transcript.died_in_call else None  # (no call starts after that death)
    for probe in probes:
        status = transcript.statuses.get(probe.function)
        output = str(status.get("output", ""))[: output_chars + 40] if status else ""
        answer = transcript.answers.get(probe.id)
        if probe.function == died_in:
            outcomes[probe.id] = ProbeOutcome(Outcome.CRASHED, output=output, message=DIED_IN_CALL)
        elif answer is not None:
            outcomes[probe.id] = _from_answer(answer, output)
        elif probe.function in transcript.killed:
            outcomes[probe.id] = ProbeOutcome(Outcome.TIMEOUT, seconds=transcript.killed[probe.function], output=output)
        elif transcript.memory_exceeded and transcript.memory_exceeded == probe.function:
            outcomes[probe.id] = ProbeOutcome(Outcome.CRASHED, output=output, message=(
                "the call used more memory than the limit allows and the run was stopped (memory limit exceeded)"))
        elif status is None:
            outcomes[probe.id] = ProbeOutcome(Outcome.NOT_RUN, output=output)
        elif status.get("status") == "timeout":
            seconds = status.get("seconds", 0)
            outcomes[probe.id] = ProbeOutcome(Outcome.TIMEOUT, output=output,
                                              seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0)
        else:
            outcomes[probe.id] = ProbeOutcome(Outcome.CRASHED, message=_describe_exit(status), output=output)
    return outcomes


def _from_answer(data: dict[str, Any], output: str) -> ProbeOutcome:
    kind, seconds = data.get("outcome"), data.get("seconds", 0.0)
    seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    if kind == "ok":
        return ProbeOutcome(Outcome.OK, result=data.get("result"), output=output, seconds=seconds)
    if kind == "missing":
        return ProbeOutcome(Outcome.MISSING, output=output)
    if kind == "raised":
        return ProbeOutcome(
            Outcome.RAISED,
            exception=str(data.get("exception", ""))[:200],
            message=str(data.get("message", ""))[:2000],
            traceback=str(data.get("traceback", ""))[:20000],
            output=output,
            seconds=seconds,
        )
    return ProbeOutcome(Outcome.CRASHED, message="malformed answer", output=output)


def _describe_exit(status: Any) -> str:
    if not isinstance(status, dict):
        return "the call ended without an answer"
    if status.get("status") == "signal":
        if status.get("signal") == signal.SIGXFSZ:
            return "the call printed more output than the limit allows and was stopped (flooded output)"
        return f"the call's process was killed by signal {status.get('signal')}"
    return f"the call's process exited (status {status.get('code')}) without returning"
