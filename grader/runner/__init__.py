"""The untrusted side: start the student's code, call its functions, bring back plain values."""

from .protocol import Outcome, Probe, ProbeOutcome
from .session import RunOutcome, run_submission

__all__ = ["Outcome", "Probe", "ProbeOutcome", "RunOutcome", "run_submission"]
