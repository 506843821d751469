"""The catalogue and the routine chosen after a run."""

from __future__ import annotations

import pytest

from service.domain.stretch import catalogue as routines
from service.domain.stretch import rules as stretch


def test_the_catalogue_covers_every_area_with_doses_and_evidence():
    assert len(routines.CATALOGUE) >= 16
    assert {r.area for r in routines.CATALOGUE} == set(routines.AREAS)
    assert len(routines.BY_ID) == len(routines.CATALOGUE), "ids are unique"
    for routine in routines.CATALOGUE:
        assert len(routine.steps) >= 2 and routine.dose and routine.minutes > 0
        assert routine.evidence in ("E", "comfort") and routine.source


@pytest.mark.parametrize(("locations", "main_area"), [
    ([], routines.LOWER_BACK),
    (["lower_back", "lower_back"], routines.LOWER_BACK),
    (["hip", "buttock", "lower_back"], routines.HIPS),
    (["upper_back"], routines.UPPER_MID_BACK),
    (["sacroiliac", "sacroiliac", "mid_back"], routines.SACROILIAC),
])
def test_a_routine_is_three_or_four_items_about_ten_minutes_for_the_area_that_hurt(locations,
                                                                                  main_area):
    chosen = stretch.pick(locations)
    assert 3 <= len(chosen) <= 4
    assert 8 <= sum(r.minutes for r in chosen) <= 12
    assert chosen[0].area == main_area
    assert any(r.focus in ("core", "strength") for r in chosen), "always some strength work"
    assert len({r.id for r in chosen}) == len(chosen)


def test_a_second_area_gets_one_item():
    chosen = stretch.pick(["hip", "hip", "upper_back"])
    assert [r.area for r in chosen].count(routines.UPPER_MID_BACK) == 1
