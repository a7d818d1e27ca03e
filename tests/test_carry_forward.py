"""Follow-through marking's tables, on the grader's side alone: what `compare.following` compares with
when one or two mistakes are carried forward, and which mistake a failure names on top of them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from grader.compare import _FOLLOWING, CheckFailed, carrying, derived, expect_close, following
from grader.labs.checking import Runs, combine_variants, variant_runs


@dataclass(frozen=True)
class Variant:
    scale: float = 1.0
    shift: float = 0.0


VARIANTS = {"doubled": Variant(scale=2.0), "halved": Variant(scale=0.5), "shifted": Variant(shift=1.0)}
RIGHT = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)


def run(variant: Variant) -> torch.Tensor:
    return RIGHT * variant.scale + variant.shift


def table() -> Runs:
    return variant_runs(run, VARIANTS)


def test_variants_combine_field_by_field_and_refuse_two_values_for_one_field() -> None:
    assert combine_variants([Variant(scale=2.0), Variant(shift=1.0)]) == Variant(scale=2.0, shift=1.0)
    with pytest.raises(KeyError):
        combine_variants([Variant(scale=2.0), Variant(scale=0.5)])
    assert torch.equal(table().combined(("shifted", "doubled")), RIGHT * 2 + 1)


def test_two_mistakes_carried_together_compare_with_their_combined_run() -> None:
    doubled_and_shifted = RIGHT * 2 + 1
    with following("doubled", "shifted"):
        expect_close(doubled_and_shifted, RIGHT, what="v", atol=1e-9, mistakes=table)
        expect_close(doubled_and_shifted[1:], RIGHT[1:], what="v", atol=1e-9,
                     mistakes=derived(table, lambda r: r[1:]))  # a table derived from another combines too
        with pytest.raises(CheckFailed, match="does not follow"):  # a plain dict cannot replay two at once
            expect_close(doubled_and_shifted, RIGHT, what="v", atol=1e-9, mistakes={h: run(v) for h, v in VARIANTS.items()})
    with following("doubled", "halved"), pytest.raises(CheckFailed, match="does not follow"):  # both set the scale
        expect_close(RIGHT, RIGHT, what="v", atol=1e-9, mistakes=table)
    with following("doubled"), pytest.raises(CheckFailed):  # one of the two alone is not enough
        expect_close(doubled_and_shifted, RIGHT, what="v", atol=1e-9, mistakes=table)


def test_a_failure_names_the_mistake_on_top_of_the_carried_one_only_when_asked() -> None:
    doubled_and_shifted = RIGHT * 2 + 1
    with following("doubled", diagnose=True) as named, pytest.raises(CheckFailed) as failed:
        expect_close(doubled_and_shifted, RIGHT, what="v", atol=1e-9, mistakes=table)
    assert failed.value.hint == "shifted" and named == ["shifted"]
    with following("doubled") as named, pytest.raises(CheckFailed) as failed:
        expect_close(doubled_and_shifted, RIGHT, what="v", atol=1e-9, mistakes=table)
    assert failed.value.hint == "" and named == []
    with pytest.raises(CheckFailed) as failed:  # outside: the table's single mistakes, as before
        expect_close(RIGHT + 1, RIGHT, what="v", atol=1e-9, mistakes=table)
    assert failed.value.hint == "shifted"
    from grader.compare import carried_output, diagnose

    with following("doubled"):  # a check's own diagnosis names nothing while a mistake is carried
        assert diagnose(RIGHT + 1, table(), atol=1e-9) == "" and carried_output(table).equal(RIGHT * 2)
    with following("doubled", diagnose=True):  # and, asked, only what is on top of it
        assert diagnose(RIGHT + 1, table(), atol=1e-9) == "" and diagnose(RIGHT * 2 + 1, table(), atol=1e-9) == "shifted"
    assert carried_output(table) is None
    assert _FOLLOWING.get().named == [] and carrying() == ()  # (kept nowhere outside: a worker grades for days)
    with following("doubled", "halved"):
        assert carrying() == ("doubled", "halved")


def test_a_table_makes_only_the_runs_a_comparison_uses() -> None:
    """Asking whether a mistake is in the table, or carrying two, makes no single mistake's run: each
    run is a training simulation (a thousand steps in lab 2)."""
    made: list[Variant] = []
    counted = variant_runs(lambda v: made.append(v) or run(v), VARIANTS)
    assert "doubled" in counted and "nothing" not in counted and made == []
    with following("doubled", "shifted"):
        expect_close(RIGHT * 2 + 1, RIGHT, what="v", atol=1e-9, mistakes=derived(lambda: counted, lambda r: r))
    assert made == [Variant(scale=2.0, shift=1.0)]


def test_a_run_that_diverged_is_no_match_for_a_finite_value() -> None:
    """A review: lab 4's train without zero_grad, on a hypothesis that squeezes, was told "sum instead of
    mean": the run with the sum on top diverged to inf by epoch 20, and inf's room (rtol * inf) held 3229.13."""
    from grader.compare import close, diagnose

    inf = float("inf")
    assert not close(torch.tensor([3229.13]), torch.tensor([inf]), atol=1e-4, rtol=1e-4)
    assert close(torch.tensor([inf]), torch.tensor([inf]), atol=1e-4, rtol=1e-4)
    assert not close(torch.tensor([1.0]), torch.tensor([float("nan")]), atol=1e-4, rtol=1e-4)
    assert close(torch.tensor([1.0, 2.0]), torch.tensor([1.00001, 2.0]), atol=1e-4)
    table = {"diverged": torch.tensor([inf]), "forgot": torch.tensor([3229.13])}
    assert diagnose(torch.tensor([3229.13]), table, atol=1e-4, rtol=1e-4) == "forgot"
