"""Labs as folders: manifests, an instructor's labs found outside the grader, `grade check-lab`,
and hidden inputs drawn per submission.

The instructor's side runs as an instructor runs it: the real `grade` command in its own process
(a lab folder's modules import as `grader.labs.<name>`, so two copies of a lab never share one
Python), on a copy of the example lab of docs/adding-a-lab.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from conftest import ROOT, SUBMISSIONS
from conftest import grade_command as grade  # (the command line, in this process)
from grader import labcheck
from grader.checks import WITHHELD, withheld
from grader.labs import known_labs, load_lab
from grader.labs.manifest import ManifestError, read_manifest

EXAMPLE = ROOT / "docs" / "example-lab" / "logistic"


def copy_example(root: Path) -> Path:
    target = root / "logistic"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


# --- manifests -------------------------------------------------------------------------------

GOOD = 'title = "A lab"\n\n[functions.cost]\npoints = 2\nsignature = "(prediction, y)"\n'


@pytest.mark.parametrize(("text", "problem"), [
    ("title = ", "is not valid TOML"),
    ('title = "A lab"\n', "names no [functions.NAME]"),
    (GOOD.replace("points = 2", "points = 0"), "needs points, a number above 0"),
    (GOOD.replace('"(prediction, y)"', '"(prediction, y"'), "is not a parameter list"),
    (GOOD + '\n[limits]\ncall = "soon"\n', "[limits] takes call and cell"),
    (GOOD + '\n[values]\nlesson = [0.5]\n', "numbers written as strings"),
    (GOOD + '\n[draws]\nHIDDEN = { low = 2, high = 1 }\n', "[draws] HIDDEN must be"),
    (GOOD + 'points = 3\n', "is not valid TOML"),
    ("colour = 1\n" + GOOD, "unknown key 'colour'"),
    (GOOD + '\n[rules.train]\nforbid = ["torch.optim"]\n', "[rules.train] must name a function of [functions]"),
    (GOOD + '\n[rules.cost]\nforbid = "torch.optim"\n', "[rules.cost] must name a function"),
    (GOOD + '\n[feedback]\nshow_hidden_expected = "yes"\n', "[feedback] takes show_hidden_expected"),
    # A typo is named (it was "needs points" for `pionts`, and nothing at all for an extra key).
    (GOOD.replace("points = 2", "pionts = 2"), "[functions.cost]: unknown key 'pionts' (known: methods, points, signature)"),
    (GOOD + 'public = true\n', "[functions.cost]: unknown key 'public'"),
    (GOOD.replace("points = 2", 'points = "2"'), "[functions.cost] needs points, a number above 0, not '2'"),
    (GOOD + '\n[feedback]\nshow_hidden_expect = true\n', "not show_hidden_expect = True"),
])
def test_a_bad_manifest_is_one_line_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    manifest = tmp_path / "mylab" / "lab.toml"
    manifest.parent.mkdir()
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as error:
        read_manifest(manifest)
    assert problem in str(error.value) and str(manifest) in str(error.value) and "\n" not in str(error.value)


def test_a_lab_named_like_a_module_of_the_grader_is_refused_by_name(tmp_path: Path) -> None:
    """A lab imports as grader.labs.<name>: a folder named probing (or checking, draws...) collided with the
    grader's own module and failed with an ImportError about 'tensor'."""
    manifest = tmp_path / "probing" / "lab.toml"
    manifest.parent.mkdir()
    manifest.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ManifestError, match="'probing' is the name of one of the grader's own modules; rename the folder"):
        read_manifest(manifest)


def test_a_manifest_normalises_signatures_and_keeps_the_order_of_functions(tmp_path: Path) -> None:
    manifest = tmp_path / "mylab" / "lab.toml"
    manifest.parent.mkdir()
    manifest.write_text(GOOD + '\n[functions.Model]\npoints = 1\nmethods = { forward = "(self,x)" }\n'
                        '\n[functions.train]\npoints = 1\nsignature = "(x, lr = 1e-5)"\n', encoding="utf-8")
    read = read_manifest(manifest)
    assert [f.name for f in read.functions] == ["cost", "Model", "train"] and read.stem == "mylab"
    assert read.functions[1].methods == {"forward": "(self, x)"} and read.functions[2].signature == "(x, lr=1e-05)"


@pytest.mark.parametrize("lab", ["lab1", "lab2", "lab3", "lab4"])
def test_the_grader_s_own_labs_agree_with_their_manifests(lab: str) -> None:
    """Signatures of the four course files and the lesson numbers of the suite, read without grading
    (`grade check-lab` also grades; the catalogue tests grade these labs' known mistakes)."""
    spec = load_lab(lab)
    found = labcheck.Findings(lab)
    for path in (spec.stub(".py"), spec.stub(".ipynb"), spec.solution(".py"), spec.solution(".ipynb")):
        labcheck._signatures(path, spec.manifest, found, spec)  # type: ignore[arg-type]
    labcheck._numbers(spec, found)
    assert found.problems == []
    assert len(labcheck.suite_numbers(spec.suite)) == len(spec.manifest.lesson_numbers())  # type: ignore[union-attr]


def test_the_signature_and_number_checks_can_fail(tmp_path: Path) -> None:
    spec = load_lab("lab2")
    changed = tmp_path / "lab2.py"
    changed.write_text(spec.stub(".py").read_text(encoding="utf-8").replace("def gradient(x, y, W, b)",
                                                                             "def gradient(x, y, w, b)"), encoding="utf-8")
    found = labcheck.Findings("lab2")
    labcheck._signatures(changed, spec.manifest, found, spec)  # type: ignore[arg-type]
    assert found.problems == [f"{changed}: gradient(x, y, w, b) differs from the manifest's gradient(x, y, W, b)"]
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_x.py").write_text('expected = printed(["4.6667", "9.8765"])\n', encoding="utf-8")
    found = labcheck.Findings("lab2")
    labcheck._numbers(dataclasses.replace(spec, folder=tmp_path), found)
    assert found.problems == ["the checks use 9.8765 (test_x.py:1), which the manifest's [values] does not list"]


# --- an instructor's labs, found outside the grader --------------------------------------------


def test_an_instructors_lab_is_found_from_labs_or_the_environment(tmp_path: Path) -> None:
    labs = tmp_path / "my-labs"
    copy_example(labs)
    listed = grade("labs", "--labs", str(labs), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "logistic  Logistic regression" in listed.stdout and "lab2  " in listed.stdout
    assert "bce_cost" in listed.stdout and "3 points" in listed.stdout
    by_env = grade("labs", cwd=tmp_path, env={"GRADER_LABS": str(labs / "logistic")})
    assert by_env.returncode == 0 and "logistic  Logistic regression" in by_env.stdout
    assert "logistic" not in known_labs()  # without the folder named, no such lab (nothing leaked in here)


def test_lab_takes_a_lab_s_folder_as_check_lab_does(tmp_path: Path) -> None:
    """`grade check-lab path/to/lab` works, so an instructor tries `--lab path/to/lab` next: it said
    "unknown lab '/.../logistic' (known labs: lab1, ...)" for a single grade and a batch alike."""
    lab = copy_example(tmp_path / "course")
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(lab / "solution/logistic.py", subs / "kim.py")
    one = grade(str(subs / "kim.py"), "--lab", str(lab), "--json", str(tmp_path / "kim.json"), cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    report = json.loads((tmp_path / "kim.json").read_text(encoding="utf-8"))
    assert (report["lab"], report["score"], report["max_score"]) == ("logistic", 10, 10)
    batch = grade("batch", str(subs), "--lab", str(lab), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert batch.returncode == 0, batch.stderr
    record = json.loads((tmp_path / "out/students/kim/record.json").read_text(encoding="utf-8"))
    assert record["result"]["score"] == 10, record
    (tmp_path / "lab2").mkdir()  # a student's folder named for a lab: --lab lab2 is still the lab
    named = grade(str(subs / "kim.py"), "--lab", "lab2", "--json", str(tmp_path / "named.json"), cwd=tmp_path)
    assert named.returncode == 1 and json.loads((tmp_path / "named.json").read_text(encoding="utf-8"))["lab"] == "lab2"
    not_a_lab = grade(str(subs / "kim.py"), "--lab", str(subs), cwd=tmp_path)
    assert not_a_lab.returncode == 2 and not_a_lab.stderr.strip() == (
        f"grade: error: {subs} is a folder without a lab.toml: not a lab"), not_a_lab.stderr


@pytest.mark.parametrize("case", ["missing", "empty", "twice", "broken", "no-probes", "probes-raise"])
def test_a_bad_lab_folder_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    labs = tmp_path / "labs"
    labs.mkdir()
    env = {"GRADER_LABS": str(labs)}
    if case == "missing":
        env = {"GRADER_LABS": str(tmp_path / "nowhere")}
        expected = "GRADER_LABS names"
    elif case == "empty":
        expected = "holds no lab"
    elif case == "twice":
        copy_example(labs)
        copy_example(tmp_path)
        env = {"GRADER_LABS": f"{labs}{os.pathsep}{tmp_path / 'logistic'}"}
        expected = "two labs are named logistic"
    elif case == "broken":
        (copy_example(labs) / "lab.toml").write_text("title = [", encoding="utf-8")
        expected = "lab.toml: is not valid TOML"
    elif case == "no-probes":
        (copy_example(labs) / "__init__.py").write_text("", encoding="utf-8")
        expected = "defines no probes() function"
    else:  # a typo in probes(): was "internal error (AttributeError ...)", with no file or line
        init = copy_example(labs) / "__init__.py"
        init.write_text(init.read_text(encoding="utf-8").replace("t(d.A_X)", "t(d.A_XX)"), encoding="utf-8")
        expected = f"{init}:20: probes() raised AttributeError:"
    run = grade("labs", cwd=tmp_path, env=env)
    assert run.returncode == 2 and expected in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    if case == "probes-raise":  # check-lab: one problem, not one per file it grades
        checked = grade("check-lab", str(labs / "logistic"), cwd=tmp_path)
        lines = checked.stdout.strip().splitlines()
        assert checked.returncode == 1 and len(lines) == 1 and lines[0].startswith(f"logistic: {expected}"), checked.stdout


def test_a_student_s_code_cannot_read_an_instructors_lab_folder(tmp_path: Path) -> None:
    """The solution, changed to answer wrongly whenever it can open the lab's own solution file:
    full marks in the sandbox, points lost without it (so the read is really attempted)."""
    labs = tmp_path / "labs"
    lab = copy_example(labs)
    answers = lab / "solution" / "logistic.py"
    text = answers.read_text(encoding="utf-8")
    assert "def hypothesis(x, W, b):\n" in text
    student = tmp_path / "student" / "logistic.py"
    student.parent.mkdir()
    student.write_text(text.replace("def hypothesis(x, W, b):\n", f"""def hypothesis(x, W, b):
    try:
        open({str(answers)!r}).close()
        return torch.zeros(x.shape[0], 1)  # found the instructor's folder
    except OSError:
        pass
""", 1), encoding="utf-8")

    def score(*flags: str) -> tuple[float, str]:
        out = tmp_path / "r.json"
        out.unlink(missing_ok=True)
        run = grade(str(student), "--lab", "logistic", "--json", str(out), *flags, cwd=tmp_path,
                    env={"GRADER_LABS": str(labs)})
        assert out.is_file(), run.stderr
        report = json.loads(out.read_text(encoding="utf-8"))
        return report["score"] / report["max_score"], report["isolation"]

    sandboxed, isolation = score()
    assert isolation.startswith("bubblewrap") and sandboxed == 1.0
    assert score("--unsandboxed")[0] < 1.0


# --- grade check-lab ---------------------------------------------------------------------------


def test_check_lab_accepts_the_example_lab(tmp_path: Path) -> None:
    lab = copy_example(tmp_path / "labs")
    run = grade("check-lab", str(lab), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("logistic is sound: ") and "5 known mistakes" in run.stdout
    assert "ko.toml gives 6 of 6 check titles in Korean" in run.stdout, run.stdout


def test_an_instructors_lab_brings_its_own_korean(tmp_path: Path) -> None:
    """An instructor review: a lab folder had no way to give its titles and hints in Korean. Its ko.toml
    does, in the report, in check-lab's count, and in the kit; a ko.toml that cannot be read is a finding."""
    labs = tmp_path / "labs"
    lab = copy_example(labs)
    korean = grade(str(lab / "known-mistakes" / "sum_instead_of_mean.py"), "--lab", "logistic", "--lang", "ko",
                   cwd=tmp_path, env={"GRADER_LABS": str(labs)})
    said = " ".join(korean.stdout.split())
    assert "bce_cost가 모든 예측이 0.5일 때 수업의 0.6931을" in said, korean.stdout  # a title
    assert "mean 대신 sum을 쓴 것 같습니다. 이진 교차 엔트로피는" in said, korean.stdout  # a hint
    kit = tmp_path / "kit"
    assert grade("release", "--labs", str(labs), "--lab", "logistic", "--out", str(kit), cwd=tmp_path).returncode == 0
    assert (kit / "grader/labs/logistic/ko.toml").read_bytes() == (lab / "ko.toml").read_bytes()
    from grader.i18n import read_lab_words  # (what check-lab reports, and what a report leaves out)

    (lab / "ko.toml").write_text('[titles]\n"a" = "b"\n[words]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"^ko.toml has \[words\]; its sections are \[titles\], \[hints\], \[details\]$"):
        read_lab_words(lab, "ko")


def test_check_lab_finds_draws_that_cannot_be_drawn_without_the_secret(tmp_path: Path) -> None:
    """A [draws] name data.py lacks, or a value that cannot be drawn, passed check-lab where no secret
    was set, then failed every grade of a CI that sets one. Said once, with or without the secret."""
    lab = copy_example(tmp_path / "labs")
    with (lab / "lab.toml").open("a", encoding="utf-8") as manifest:
        manifest.write("\n[draws]\nA_XX = { low = 0, high = 1 }\n")
    for env in ({}, {"GRADER_SECRET": "s3cret"}):
        run = grade("check-lab", str(lab), cwd=tmp_path, env=env)
        assert run.returncode == 1, run.stdout + run.stderr
        assert run.stdout.strip().splitlines() == ["logistic: [draws] names A_XX, which data.py does not define"], run.stdout


def test_check_lab_says_a_broken_check_once_and_not_its_consequences(tmp_path: Path) -> None:
    """A check asking for a probe the lab does not define failed in every file check-lab grades (nine
    lines: the check, then the solution's score and the stubs' messages it caused). One line now."""
    lab = copy_example(tmp_path / "labs")
    suite = lab / "checks" / "test_logistic.py"
    suite.write_text(suite.read_text(encoding="utf-8").replace('observed.get("hypothesis.hidden_a")',
                                                               'observed.get("hypothesis.hiden_a")'), encoding="utf-8")
    run = grade("check-lab", str(lab), cwd=tmp_path)
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1, run.stdout
    assert "the check asks for probe 'hypothesis.hiden_a', which the lab does not define" in lines[0], lines
    assert lines[0].endswith("(the same in 5 more files)"), lines  # the files it is graded on alike


def test_check_lab_names_a_probe_s_unknown_function_and_a_probe_id_given_twice(tmp_path: Path) -> None:
    """A typo in a probe's function was blamed on the solution ("no hypothesis_ found in the submission"),
    four times over; a probe id given twice was not noticed."""
    lab = copy_example(tmp_path / "labs")
    init = lab / "__init__.py"
    text = init.read_text(encoding="utf-8")
    text = text.replace('Probe("hypothesis.hidden_a", "hypothesis",', 'Probe("hypothesis.hidden_a", "hypothesis_",')
    text = text.replace('Probe("hypothesis.hidden_b",', 'Probe("hypothesis.lesson",')
    init.write_text(text, encoding="utf-8")
    run = grade("check-lab", str(lab), cwd=tmp_path)
    assert run.returncode == 1 and run.stdout.strip().splitlines() == [
        "logistic: __init__.py: probe hypothesis.hidden_a calls hypothesis_, which [functions] does not name",
        "logistic: __init__.py: two probes are named hypothesis.lesson"], run.stdout


def test_a_probe_s_unknown_recipe_is_the_lab_s_error_not_the_student_s(tmp_path: Path) -> None:
    """A typo in a probe's recipe ("cal") graded the solution as raising KeyError: 'cal', a student's error
    (exit 1), in check-lab six times over; it is one line about the lab, and a grade exits 2."""
    labs = tmp_path / "labs"
    lab = copy_example(labs)
    init = lab / "__init__.py"
    text = init.read_text(encoding="utf-8")
    wrong = text.replace('Probe("hypothesis.lesson", "hypothesis", "call",', 'Probe("hypothesis.lesson", "hypothesis", "cal",')
    assert wrong != text
    init.write_text(wrong, encoding="utf-8")
    checked = grade("check-lab", str(lab), cwd=tmp_path)
    assert checked.returncode == 1 and len(checked.stdout.strip().splitlines()) == 1, checked.stdout
    assert "probe hypothesis.lesson has an unknown recipe 'cal'" in checked.stdout, checked.stdout
    graded = grade(str(lab / "solution" / "logistic.py"), "--lab", "logistic", cwd=tmp_path,
                   env={"GRADER_LABS": str(labs)})
    assert graded.returncode == 2 and "unknown recipe 'cal'" in graded.stderr, (graded.stdout, graded.stderr)
    assert "KeyError" not in graded.stdout + graded.stderr


def test_the_grader_and_the_harness_know_the_same_recipes() -> None:
    import ast

    from grader.runner.protocol import HARNESS, RECIPES

    tree = ast.parse(HARNESS.read_text(encoding="utf-8"))
    [table] = [n.value for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
               and n.target.id == "RECIPES"]
    assert isinstance(table, ast.Dict)
    assert {k.value for k in table.keys if isinstance(k, ast.Constant)} == set(RECIPES)


def test_a_reference_solution_that_does_not_compile_is_one_line_naming_it(tmp_path: Path) -> None:
    """A syntax error in the solution was "internal error (SyntaxError: ...); set GRADER_DEBUG=1"."""
    labs = tmp_path / "labs"
    lab = copy_example(labs)
    solution = lab / "solution" / "logistic.py"
    text = solution.read_text(encoding="utf-8")
    solution.write_text(text.replace("    return torch.sigmoid(x @ W + b)\n", "    return torch.sigmoid(x @ W + b))\n", 1),
                        encoding="utf-8")
    checked = grade("check-lab", str(lab), cwd=tmp_path)
    assert checked.returncode == 1 and checked.stdout.strip().splitlines() == [
        "logistic: solution/logistic.py does not compile: line 21: unmatched ')'"], checked.stdout
    graded = grade(str(lab / "exercise" / "logistic.py"), "--lab", "logistic", cwd=tmp_path, env={"GRADER_LABS": str(labs)})
    assert graded.returncode == 2 and graded.stderr.strip() == (
        "grade: error: logistic's reference solution solution/logistic.py does not compile: line 21: unmatched ')'"), graded.stderr


def test_a_public_check_asking_for_a_hidden_probe_is_found_by_check_lab_and_refused_by_release(tmp_path: Path) -> None:
    """An instructor review: a public check comparing a probe on hidden inputs outside `with hidden():` put
    the hidden inputs, the probe and the formula into the kit; check-lab said "sound" and release exit 0."""
    labs = tmp_path / "labs"
    lab = copy_example(labs)
    checks = lab / "checks" / "test_logistic.py"
    text = checks.read_text(encoding="utf-8")
    anchor = "def test_hypothesis_lesson_values(observed: Any, reference: Any) -> None:\n    x = T(d.LESSON_X)\n"
    leak = ('    expect_close(observed.get("hypothesis.hidden_a"), T(d.LESSON_Y)[:5], what="hypothesis on other data", '
            'atol=1e-4)\n')
    assert anchor in text
    checks.write_text(text.replace(anchor, anchor + leak), encoding="utf-8")
    line = text[:text.index(anchor)].count("\n") + 3
    said = (f"logistic's checks cannot go into a kit: checks/test_logistic.py: line {line}: the public check "
            "test_hypothesis_lesson_values asks for hypothesis.hidden_a, a probe on hidden inputs, outside its "
            "`with hidden():` blocks; move that into a hidden block")
    checked = grade("check-lab", str(lab), cwd=tmp_path)
    assert checked.returncode == 1 and f"logistic: grade release would refuse it: {said}" in checked.stdout.splitlines(), \
        checked.stdout
    released = grade("release", "--labs", str(labs), "--lab", "logistic", "--out", str(tmp_path / "kit"), cwd=tmp_path)
    assert released.returncode == 2 and released.stderr.strip() == f"grade: error: {said}", released.stderr
    assert not (tmp_path / "kit").exists()


def test_a_released_exercise_notebook_carries_no_outputs_or_cell_metadata_but_its_tags(tmp_path: Path) -> None:
    """An instructor review: a stub notebook made from the solved one went into the kit byte for byte, its
    saved outputs (the solution's printout) and cell metadata too; nothing warned."""
    import nbformat

    from grader.labs.stubs import code_hash

    labs = tmp_path / "labs"
    lab = copy_example(labs)
    stub = lab / "exercise" / "logistic.ipynb"
    notebook = nbformat.read(stub, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    code[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="return torch.sigmoid(x @ W + b)  # LEAK\n")]
    code[0].execution_count = 7
    code[0].metadata["solution_note"] = "LEAK in metadata"
    tagged = [c for c in code if c.metadata.get("tags")]
    assert tagged, "the example's stub has a tagged (demo) cell"
    nbformat.write(notebook, stub)
    released = grade("release", "--labs", str(labs), "--lab", "logistic", "--out", str(tmp_path / "kit"), cwd=tmp_path)
    assert released.returncode == 0, released.stderr
    shipped = tmp_path / "kit" / "exercises" / "logistic" / "logistic.ipynb"
    assert "LEAK" not in shipped.read_text(encoding="utf-8")
    cells = [c for c in nbformat.read(shipped, as_version=4).cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in cells)
    assert [c.metadata.get("tags") for c in cells] == [c.metadata.get("tags") for c in code]  # (the demo tags stay)
    assert code_hash(shipped) == code_hash(stub)  # the kit still knows it as the untouched stub


def test_check_lab_names_a_check_pytest_never_runs_and_one_a_second_replaces(tmp_path: Path) -> None:
    """A check not named test_... is never collected, and a second def of the same name replaces the first:
    both were told only as a points mismatch ("hypothesis's checks give 2 points; the manifest says 3")."""
    lab = copy_example(tmp_path / "labs")
    checks = lab / "checks" / "test_logistic.py"
    text = checks.read_text(encoding="utf-8")
    text = text.replace("def test_hypothesis_other_data(", "def check_hypothesis_other_data(", 1)
    text = text.replace("def test_train_step_consecutive(", "def test_bce_cost_autograd(", 1)
    checks.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    run = grade("check-lab", str(lab), cwd=tmp_path)
    said = run.stdout.splitlines()
    assert run.returncode == 1
    assert (f"logistic: checks/test_logistic.py:{lines.index('def check_hypothesis_other_data(observed: Any, reference: Any) -> None:') + 1}: "
            "the check check_hypothesis_other_data is not named test_...: pytest never runs it") in said, said
    second = [i for i, line in enumerate(lines) if line.startswith("def test_bce_cost_autograd(")][1] + 1
    assert (f"logistic: checks/test_logistic.py:{second}: a second check named test_bce_cost_autograd replaces the "
            "first one (a copy left with its old name?)") in said, said
    assert "logistic: hypothesis's checks give 2 points; the manifest says 3" in said, said


def test_a_lab_without_mistakes_py_is_cut_for_a_kit_without_a_crash(tmp_path: Path) -> None:
    """A review: the kit cut (which check-lab runs too) read mistakes.py unconditionally: 'internal error
    (FileNotFoundError)', exit 2, where check-lab had given a one-line finding and exit 1. Release runs the
    same cut: the kit is cut with no mistake texts (check-lab says the lab's own checks cannot import them)."""
    labs = tmp_path / "labs"
    lab = copy_example(labs)
    (lab / "mistakes.py").unlink()
    run = grade("release", "--labs", str(labs), "--lab", "logistic", "--out", str(tmp_path / "kit"), cwd=tmp_path)
    said = run.stdout + run.stderr
    assert run.returncode == 0 and "internal error" not in said and "FileNotFoundError" not in said, said
    assert (tmp_path / "kit/grader/labs/logistic/mistakes.py").is_file()


def test_check_lab_finds_a_stub_notebook_that_raises_as_handed_out(tmp_path: Path) -> None:
    """The stub's "try it" cell without its demo tag: every student grading the stub saw a cell error,
    and check-lab said 'sound'."""
    lab = copy_example(tmp_path / "labs")
    stub = lab / "exercise" / "logistic.ipynb"
    nb = nbformat.read(str(stub), as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    nbformat.write(nb, str(stub))
    run = grade("check-lab", str(lab), cwd=tmp_path)
    assert run.returncode == 1, run.stdout
    assert any(line.startswith("logistic: the stub exercise/logistic.ipynb raises as handed out, in cell ")
               and "wants the tag demo" in line for line in run.stdout.splitlines()), run.stdout


def test_check_lab_finds_a_rule_no_check_applies(tmp_path: Path) -> None:
    """[rules.hypothesis] with no check calling expect_by_hand for it: the rule was silently never kept
    (a student breaking it earned full marks) and check-lab said 'sound'."""
    lab = copy_example(tmp_path / "labs")
    with (lab / "lab.toml").open("a", encoding="utf-8") as manifest:
        manifest.write('\n[rules.hypothesis]\nforbid = ["torch.sigmoid"]\n')
    run = grade("check-lab", str(lab), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "logistic: [rules.hypothesis] is applied by no check: a check must call expect_by_hand(observed, " \
           "\"hypothesis\", hint=...), or the rule is never kept" in run.stdout.splitlines(), run.stdout


def test_check_lab_rejects_a_wrong_solution_a_changed_signature_and_a_wrong_manifest(tmp_path: Path) -> None:
    lab = copy_example(tmp_path / "labs")
    solution = lab / "solution" / "logistic.ipynb"  # (the .py is the reference every grade compares with)
    text = solution.read_text(encoding="utf-8")
    assert "torch.mean(" in text
    solution.write_text(text.replace("torch.mean(", "torch.sum("), encoding="utf-8")
    notebook = lab / "exercise" / "logistic.ipynb"
    text = notebook.read_text(encoding="utf-8")
    assert "def hypothesis(x, W, b):" in text
    notebook.write_text(text.replace("def hypothesis(x, W, b):", "def hypothesis(X, W, b):"), encoding="utf-8")
    manifest = lab / "lab.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('"0.6931", ', "").replace(', "0.6931"', "").replace("points = 4", "points = 5", 1),
                        encoding="utf-8")
    run = grade("check-lab", str(lab), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.strip().splitlines()
    assert all(line.startswith("logistic: ") for line in lines)
    expected = [
        "exercise/logistic.ipynb: hypothesis(X, W, b) differs from the manifest's hypothesis(x, W, b)",
        "the solution solution/logistic.ipynb scores",
        "train_step's checks give 4 points; the manifest says 5",
    ]
    for words in expected:
        assert any(words in line for line in lines), (words, lines)
    assert not any("solution/logistic.py scores" in line or "known mistake" in line for line in lines), lines
    assert "0.6931" not in manifest.read_text(encoding="utf-8")
    assert any("the checks use 0.6931" in line and "[values] does not list" in line for line in lines), lines


def test_check_lab_of_an_unknown_lab_or_a_plain_folder_is_one_line(tmp_path: Path) -> None:
    unknown = grade("check-lab", "lab9", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown lab 'lab9'" in unknown.stderr
    plain = grade("check-lab", str(tmp_path), cwd=tmp_path)
    assert plain.returncode == 2 and "without a lab.toml" in plain.stderr


# --- hidden inputs drawn per submission --------------------------------------------------------


def test_hidden_inputs_are_drawn_per_submission_from_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lab 2 draws its hidden targets when GRADER_SECRET is set: the same file and secret give the
    same report, another secret other expected values; the solution still earns full marks."""
    from grader.pipeline import grade as grade_here

    wrong = SUBMISSIONS / "lab2" / "whole" / "hardcodes_lesson_numbers.py"

    def report(path: Path, secret: str | None) -> dict[str, Any]:
        if secret is None:
            monkeypatch.delenv("GRADER_SECRET", raising=False)
        else:
            monkeypatch.setenv("GRADER_SECRET", secret)
        data = grade_here(path, "lab2").to_dict()
        data.pop("grader_version")
        return data

    def expected(data: dict[str, Any]) -> dict[str, str]:
        return {c["name"]: c["expected"] for c in data["checks"]}

    plain, one, again, two = (report(wrong, secret) for secret in (None, "one", "one", "two"))
    assert one == again
    differ = [name for name in expected(one) if expected(one)[name] != expected(two)[name]]
    assert "train.other_data" in differ and "gradient.other_data" in differ
    assert all(expected(plain)[name] != expected(one)[name] for name in differ)
    assert "hypothesis.lesson_values" not in differ  # lesson numbers are the lesson's, whatever the secret
    solution = report(ROOT / "solutions" / "lab2" / "lab2.py", "two")
    assert solution["score"] == solution["max_score"] == 25


# --- what a failure on hidden inputs shows -----------------------------------------------------


def test_a_failure_on_hidden_inputs_withholds_its_expected_values(tmp_path: Path) -> None:
    """The example lab keeps the default (`show_hidden_expected` false): a hidden check's failure
    names the mistake but not the numbers; a public check's failure on the lesson's data shows them."""
    labs = tmp_path / "labs"
    lab = copy_example(labs)
    out = tmp_path / "r.json"
    run = grade(str(lab / "known-mistakes" / "sum_instead_of_mean.py"), "--lab", "logistic", "--json", str(out),
                cwd=tmp_path, env={"GRADER_LABS": str(labs)})
    checks = {c["name"]: c for c in json.loads(out.read_text(encoding="utf-8"))["checks"]}
    assert run.returncode == 1
    hidden, public = checks["bce_cost.autograd"], checks["bce_cost.lesson_values"]
    assert hidden["score"] == 0 and hidden["expected"] == WITHHELD and "off by" not in hidden["message"]
    assert hidden["obtained"] and "sum" in hidden["hint"]  # the student's own value, and the mistake it looks like
    assert public["score"] == 0 and public["expected"].startswith("0.6931")
    # In Korean, the withheld line too (an instructor's lab keeps this default; the course's labs do not).
    korean = grade(str(lab / "known-mistakes" / "sum_instead_of_mean.py"), "--lab", "logistic", "--lang", "ko",
                   cwd=tmp_path, env={"GRADER_LABS": str(labs)})
    assert "기대값" in korean.stdout and "(not shown" not in korean.stdout, korean.stdout


def test_a_public_check_s_hidden_block_counts_as_hidden_inputs() -> None:
    from grader.compare import CheckFailed
    from grader.labs.checking import hidden

    with pytest.raises(CheckFailed) as raised:
        with hidden():
            raise CheckFailed("bce_cost on other data is wrong (off by 0.25)", expected="0.5000")
    assert raised.value.on_hidden_inputs
    assert withheld(raised.value.message) == "bce_cost on other data is wrong"
    assert withheld("p is wrong (mismatched elements 2 / 6, max absolute difference 0.1)") == "p is wrong"
    assert withheld("p has shape (3,), expected (3, 1)") == "p has shape (3,), expected (3, 1)"
