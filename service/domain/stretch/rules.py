"""Choosing a short routine after a run, from where the athlete's back has hurt lately.

About ten minutes, three or four items: most from the area that hurt most often in the last 14
days, one from the next, and always one core or strength item, since strength and stabilisation
work did best for back pain (Owen et al. 2020). With no recent pain: core and lower back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

from service.domain.stretch.catalogue import (
    CATALOGUE,
    HIPS,
    LOWER_BACK,
    SACROILIAC,
    UPPER_MID_BACK,
    Routine,
)

AREA_OF_LOCATION = {
    "lower_back": LOWER_BACK, "sacroiliac": SACROILIAC, "buttock": HIPS, "hip": HIPS,
    "leg": HIPS, "mid_back": UPPER_MID_BACK, "upper_back": UPPER_MID_BACK,
}
RECENT = timedelta(days=14)
TARGET_MINUTES = 10
MAX_ITEMS = 4


def pick(pain_locations: Iterable[str]) -> list[Routine]:
    """Three or four routines, about ten minutes, for the given recent pain locations."""
    counts = Counter(AREA_OF_LOCATION[location] for location in pain_locations
                     if location in AREA_OF_LOCATION)
    areas = [area for area, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    if not areas:
        areas = [LOWER_BACK]
    chosen: list[Routine] = []
    first = [r for r in CATALOGUE if r.area == areas[0]]
    chosen += first[:2] if len(areas) > 1 else first[:3]
    if len(areas) > 1:
        chosen += [r for r in CATALOGUE if r.area == areas[1]][:1]
    if not any(r.focus in ("core", "strength") for r in chosen):
        chosen.append(next(r for r in CATALOGUE if r.focus == "core"))
    for extra in CATALOGUE:  # top up towards ten minutes from the main area, then any core
        if len(chosen) >= MAX_ITEMS or sum(r.minutes for r in chosen) >= TARGET_MINUTES:
            break
        if extra not in chosen and (extra.area == areas[0] or extra.focus == "core"):
            chosen.append(extra)
    return chosen
