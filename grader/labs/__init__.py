"""Labs: each is a folder with a manifest (`lab.toml`), its probes, data, known mistakes and hidden suite.

The grader's own labs are the folders here; an instructor's labs are folders named by
`--labs DIR` or the `GRADER_LABS` environment variable (folders separated by the path
separator), each a lab folder or a folder of them (docs/adding-a-lab.md). Either way a lab's
modules import as `grader.labs.<name>`. The hidden suite (`checks/`) and the reference
solution stay on the grader's side; the probes say only which student functions to call on
which inputs.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import runpy
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable

from ..edition import public_only
from ..errors import GraderError, SubmissionNotFound, UnknownLab
from ..runner import Probe
from ..runner.protocol import RECIPES
from .manifest import MANIFEST, Manifest, read_manifest

if TYPE_CHECKING:
    from ..figures import Figure

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
BUILTIN = Path(__file__).resolve().parent
ENV = "GRADER_LABS"


def course_root() -> Path:
    """Where `exercises/` and `solutions/` are: inside a built wheel, or the source tree."""
    bundled = _PACKAGE_DIR / "_course"
    return bundled if bundled.is_dir() else _PACKAGE_DIR.parent


@dataclass(frozen=True)
class Lab:
    name: str
    title: str
    functions: tuple[str, ...]  # graded names, in the order students meet them
    stem: str  # file stem of the stubs: <exercise folder>/<stem>.py and .ipynb
    make_probes: Callable[[], list[Probe]]
    # Pictures of the student's training: (the student's answer to a probe, the reference's) -> figures
    make_figures: Callable[[Callable[[str], Any], Callable[[str], Any]], list[Figure]] | None = None
    manifest: Manifest | None = None
    folder: Path = BUILTIN
    builtin: bool = True  # one of the grader's own labs, whose course material is under course_root()

    @property
    def suite(self) -> Path:
        return self.folder / "checks"

    @property
    def exercise_dir(self) -> Path:
        if self.builtin or self.manifest is None:
            return course_root() / "exercises" / self.name
        return self.folder / (self.manifest.exercise or "exercise")

    @property
    def solution_dir(self) -> Path:
        if self.builtin or self.manifest is None:
            return course_root() / "solutions" / self.name
        return self.folder / (self.manifest.solution or "solution")

    def stub(self, suffix: str) -> Path:
        return self.exercise_dir / f"{self.stem}{suffix}"

    def solution(self, suffix: str = ".py") -> Path:
        return self.solution_dir / f"{self.stem}{suffix}"

    def reference(self) -> SimpleNamespace | None:
        """The reference solution, run in the grader's own process (it is ours, not the student's).

        None in a student kit, which has no solutions: its public checks use the lessons' numbers.
        """
        if public_only():
            return None
        path = self.solution(".py")
        if not path.is_file():
            raise GraderError(f"the reference solution for {self.name} is missing ({path})")
        shown = f"{self.solution_dir.name}/{path.name}"
        try:
            return SimpleNamespace(**runpy.run_path(str(path), run_name=f"reference_{self.name}"))
        except SyntaxError as exc:  # the instructor's file: one line naming it, not a grader bug
            raise GraderError(f"{self.name}'s reference solution {shown} does not compile: line {exc.lineno}: "
                              f"{exc.msg}") from None
        except Exception as exc:
            raise GraderError(f"{self.name}'s reference solution {shown} raised {type(exc).__name__} as it loaded: "
                              f"{exc}") from None


def lab_roots() -> tuple[Path, ...]:
    """The instructor's lab folders, from GRADER_LABS (the CLI puts --labs there too)."""
    roots = []
    for part in os.environ.get(ENV, "").split(os.pathsep):
        if part.strip():
            path = Path(part).expanduser().resolve()
            if not path.is_dir():
                raise GraderError(f"{ENV} names {part}, which is not a folder")
            roots.append(path)
    return tuple(roots)


def add_lab_roots(folders: list[Path]) -> None:
    """Search `folders` first for labs, here and in every process started from here (GRADER_LABS)."""
    before = [p for p in os.environ.get(ENV, "").split(os.pathsep) if p]
    os.environ[ENV] = os.pathsep.join([*(str(f.resolve()) for f in folders), *before])


def resolve_lab(target: str) -> str:
    """A lab's name from a name or a lab's folder (`--lab`, `check-lab`); a folder joins the labs the grader
    searches, here and in every process started from here."""
    path = Path(target).expanduser()
    if target and (path / MANIFEST).is_file():
        path = path.resolve()
        if path.parent != BUILTIN:  # an instructor's lab
            add_lab_roots([path])
        return path.name
    if target in known_labs():  # (a name, even where a student's folder of that name is at hand)
        return target
    if target and path.is_dir():
        raise GraderError(f"{target} is a folder without a {MANIFEST}: not a lab")
    if not path.exists() and ("/" in target or target.startswith(("~", "."))):  # meant as a folder
        raise SubmissionNotFound(path)
    load_lab(target)  # UnknownLab, naming the known ones
    return target


def lab_folders() -> dict[str, Path]:
    """Every lab the grader knows, by name: its own, then the instructor's."""
    return dict(_lab_folders(os.environ.get(ENV, "")))


@functools.lru_cache(maxsize=8)
def _lab_folders(_key: str) -> tuple[tuple[str, Path], ...]:
    found = {p.name: p for p in sorted(BUILTIN.iterdir()) if (p / MANIFEST).is_file()}
    for root in lab_roots():
        labs = [root] if (root / MANIFEST).is_file() else sorted(p for p in root.iterdir() if (p / MANIFEST).is_file())
        if not labs:
            raise GraderError(f"{root} holds no lab: neither it nor a folder in it has a {MANIFEST}")
        for folder in labs:
            if folder.name in found and found[folder.name] != folder:
                raise GraderError(f"two labs are named {folder.name}: {found[folder.name]} and {folder}")
            found[folder.name] = folder
    return tuple(sorted(found.items()))


def known_labs() -> tuple[str, ...]:
    return tuple(lab_folders())


def load_lab(name: str) -> Lab:
    folders = lab_folders()
    if name not in folders:
        raise UnknownLab(name, tuple(folders))
    return _load(name, folders[name])


@functools.lru_cache(maxsize=32)
def _load(name: str, folder: Path) -> Lab:
    manifest = read_manifest(folder / MANIFEST)
    builtin = folder.parent == BUILTIN
    module = _package(name, folder, builtin)
    probes = getattr(module, "probes", None)
    if not callable(probes):
        raise GraderError(f"{folder / '__init__.py'} defines no probes() function")
    figures = getattr(module, "figures", None)
    return Lab(name=name, title=manifest.title, functions=tuple(f.name for f in manifest.functions), stem=manifest.stem,
               make_probes=_said_in_one_line(probes, folder), make_figures=figures if callable(figures) else None,
               manifest=manifest, folder=folder, builtin=builtin)


def _said_in_one_line(probes: Callable[[], list[Probe]], folder: Path) -> Callable[[], list[Probe]]:
    """The lab's probes(); an exception in it (the instructor's code) is one line naming its file and line."""
    def make() -> list[Probe]:
        try:
            made = probes()
        except GraderError:
            raise
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve().is_relative_to(folder)]
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else str(folder / "__init__.py")
            raise GraderError(f"{where}: probes() raised {type(exc).__name__}: {exc}") from None
        for probe in made:  # (in the student's process it would raise there, and look like the student's error)
            if probe.recipe not in RECIPES:
                raise GraderError(f"{folder / '__init__.py'}: probe {probe.id} has an unknown recipe {probe.recipe!r} "
                                  f"(the recipes are {', '.join(RECIPES)})")
        return made
    return make


def _package(name: str, folder: Path, builtin: bool) -> ModuleType:
    """The lab's package, `grader.labs.<name>`, wherever its folder is."""
    qualified = f"{__name__}.{name}"
    if builtin:
        return importlib.import_module(qualified)
    loaded = sys.modules.get(qualified)
    if loaded is not None:
        if Path(loaded.__file__ or "").resolve().parent != folder:
            raise GraderError(f"lab {name} is already loaded from elsewhere than {folder}")
        return loaded
    init = folder / "__init__.py"
    spec = importlib.util.spec_from_file_location(qualified, init, submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None or not init.is_file():
        raise GraderError(f"{folder} is not a lab package: it has no __init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the instructor's code: say which file, in one line
        del sys.modules[qualified]
        raise GraderError(f"{init} could not be loaded: {type(exc).__name__}: {exc}") from None
    setattr(sys.modules[__name__], name, module)
    return module
