"""Lab definitions: one subpackage per lab, each with a `LAB` spec, its probes and a hidden suite.

The hidden suite (`checks/`) and the reference solution stay on the grader's side; the
probes say only which student functions to call on which inputs.
"""

from __future__ import annotations

import importlib
import pkgutil
import runpy
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable

from ..edition import public_only
from ..errors import GraderError, UnknownLab
from ..runner import Probe

if TYPE_CHECKING:
    from ..figures import Figure

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def course_root() -> Path:
    """Where `exercises/` and `solutions/` are: inside a built wheel, or the source tree."""
    bundled = _PACKAGE_DIR / "_course"
    return bundled if bundled.is_dir() else _PACKAGE_DIR.parent


@dataclass(frozen=True)
class Lab:
    name: str
    title: str
    functions: tuple[str, ...]  # graded names, in the order students meet them
    stem: str  # file stem of the stubs: exercises/<name>/<stem>.py and .ipynb
    make_probes: Callable[[], list[Probe]]
    # Pictures of the student's training: (the student's answer to a probe, the reference's) -> figures
    make_figures: Callable[[Callable[[str], Any], Callable[[str], Any]], list[Figure]] | None = None

    @property
    def suite(self) -> Path:
        return Path(importlib.import_module(f"grader.labs.{self.name}").__file__ or "").parent / "checks"

    def stub(self, suffix: str) -> Path:
        return course_root() / "exercises" / self.name / f"{self.stem}{suffix}"

    def reference(self) -> SimpleNamespace | None:
        """The reference solution, run in the grader's own process (it is ours, not the student's).

        None in a student kit, which has no solutions: its public checks use the lessons' numbers.
        """
        if public_only():
            return None
        path = course_root() / "solutions" / self.name / f"{self.stem}.py"
        if not path.is_file():
            raise GraderError(f"the reference solution for {self.name} is missing ({path})")
        return SimpleNamespace(**runpy.run_path(str(path), run_name=f"reference_{self.name}"))


def known_labs() -> tuple[str, ...]:
    return tuple(sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.ispkg))


def load_lab(name: str) -> Lab:
    if name not in known_labs():
        raise UnknownLab(name, known_labs())
    lab = importlib.import_module(f"grader.labs.{name}").LAB
    assert isinstance(lab, Lab)
    return lab
