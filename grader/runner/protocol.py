"""What crosses the trust boundary: probe requests out, plain JSON values back.

The grader writes the probes (function names and inputs) to a file; the harness in
the student's process writes one small JSON file per probe. Reading them back never
runs code: `json.loads` with no object hooks, a size cap, and numbers only where
numbers belong (NaN and infinities travel as the strings "nan", "inf", "-inf").
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

MAX_RESULT_BYTES = 8 * 1024 * 1024
HARNESS = Path(__file__).with_name("harness.py")


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


def write_probes(path: Path, probes: list[Probe], call_timeout: float) -> None:
    data = {"protocol": 1, "call_timeout": call_timeout, "probes": [p.to_json() for p in probes]}
    path.write_text(json.dumps(data), encoding="utf-8")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_RESULT_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_RESULT_BYTES} bytes")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)


def _read_text(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return ""
    text = data[:limit].decode("utf-8", errors="replace")
    return text + ("\n[... output truncated ...]" if len(data) > limit else "")


def read_outcomes(out_dir: Path, probes: list[Probe], output_chars: int) -> dict[str, ProbeOutcome]:
    """Collect what the harness wrote: `<probe>.json` per call, `<function>.status` and `.log` per function."""
    outcomes: dict[str, ProbeOutcome] = {}
    for probe in probes:
        output = _read_text(out_dir / f"{probe.function}.log", output_chars)
        try:
            status = _read_json(out_dir / f"{probe.function}.status")
        except (OSError, ValueError):
            status = None
        outcomes[probe.id] = _read_one(out_dir, probe.id, status if isinstance(status, dict) else None, output)
    return outcomes


def _read_one(out_dir: Path, probe_id: str, status: dict[str, Any] | None, output: str) -> ProbeOutcome:
    try:
        data = _read_json(out_dir / f"{probe_id}.json")
    except FileNotFoundError:
        if status is None:
            return ProbeOutcome(Outcome.NOT_RUN, output=output)
        if status.get("status") == "timeout":
            return ProbeOutcome(Outcome.TIMEOUT, seconds=float(status.get("seconds", 0)), output=output)
        return ProbeOutcome(Outcome.CRASHED, message=_describe_exit(status), output=output)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return ProbeOutcome(Outcome.CRASHED, message=f"unreadable answer ({exc})", output=output)
    if not isinstance(data, dict):
        return ProbeOutcome(Outcome.CRASHED, message="malformed answer", output=output)
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
