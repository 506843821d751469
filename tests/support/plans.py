"""Training plans runners follow, as planned runs from a Monday, and the history before them.

The plans are modelled on well-known ones, in whole kilometres or miles as they are printed:
- a couch-to-5k (NHS-style: 9 weeks, 3 runs a week, from about 3 km of run-walk to 5 km);
- a 16-week novice marathon (Higdon-style: 3 short runs and a Saturday long run from 6 to 18 miles,
  with step-back weeks and a two-week taper);
- a 16-week three-runs-a-week marathon (FIRST-style: intervals, tempo and a long run of 13 to 20
  miles);
- a half marathon for a runner coming back after six weeks off.
"""

from __future__ import annotations

from datetime import date, timedelta

from service.domain.plans.rules import Done, Planned

MILE = 1609.344


def mi(miles: float) -> int:
    return round(miles * MILE)


def km(kilometres: float) -> int:
    return round(kilometres * 1000)


def weekly(monday: date, weeks: list[list[tuple[int, int, str]]],
           prefix: str = "") -> list[Planned]:
    """Planned runs from `weeks`: each a list of (weekday 0-6, metres, kind)."""
    return [Planned(f"{prefix}w{n + 1}d{weekday}", monday + timedelta(weeks=n, days=weekday),
                    metres, kind)
            for n, week in enumerate(weeks) for weekday, metres, kind in week]


def history(today: date, weeks: int, runs: list[tuple[int, int]]) -> list[Done]:
    """`weeks` weeks before `today` (a Monday) of the same runs: (weekday, metres)."""
    return [Done(today - timedelta(weeks=weeks - n) + timedelta(days=weekday), metres)
            for n in range(weeks) for weekday, metres in runs]


def couch_to_5k(monday: date) -> list[Planned]:
    distances = [3.0, 3.2, 3.4, 3.6, 3.8, 4.0, 4.4, 4.6, 5.0]
    weeks = [[(1, km(d), "easy"), (3, km(d), "easy"), (6, km(d), "easy")] for d in distances]
    weeks[-1][-1] = (6, km(5.0), "race")
    return weekly(monday, weeks, "c25k-")


HIGDON_LONG = [6, 7, 5, 9, 10, 7, 12, 13, 10, 15, 16, 12, 18, 14, 10]
HIGDON_WEEKDAY = [(3, 3, 3), (3, 3, 3), (3, 4, 3), (3, 4, 3), (3, 5, 3), (3, 5, 3), (4, 5, 4),
                  (4, 6, 4), (4, 6, 4), (4, 7, 4), (5, 8, 5), (5, 8, 5), (5, 5, 5), (5, 8, 5),
                  (4, 6, 4)]


def novice_marathon(monday: date, long_runs: list[float] | None = None) -> list[Planned]:
    """Tuesday, Wednesday and Thursday runs, a Saturday long run; the race on week 16's Sunday."""
    long_runs = long_runs or HIGDON_LONG
    weeks = [[(1, mi(a), "easy"), (2, mi(b), "easy"), (3, mi(c), "easy"),
              (5, mi(long), "long")]
             for (a, b, c), long in zip(HIGDON_WEEKDAY, long_runs, strict=True)]
    weeks.append([(1, mi(3), "easy"), (2, mi(4), "easy"), (3, mi(2), "easy"),
                  (6, km(42.195), "race")])
    return weekly(monday, weeks, "hh-")


FIRST_LONG = [13, 15, 17, 20, 18, 20, 15, 20, 18, 20, 15, 20, 18, 13, 10]
FIRST_TEMPO = [5, 6, 5, 7, 8, 6, 10, 6, 8, 5, 10, 6, 8, 5, 5]


def first_marathon(monday: date) -> list[Planned]:
    """Tuesday intervals (about 6 miles with the warm-up), Thursday tempo, Sunday long run."""
    weeks = [[(1, mi(6), "intervals"), (3, mi(tempo), "tempo"), (6, mi(long), "long")]
             for tempo, long in zip(FIRST_TEMPO, FIRST_LONG, strict=True)]
    weeks.append([(1, mi(5), "intervals"), (3, mi(3), "tempo"), (6, km(42.195), "race")])
    return weekly(monday, weeks, "first-")


def comeback_half(monday: date) -> list[Planned]:
    """Ten weeks to a half marathon, starting where the runner left off six weeks ago."""
    long_runs = [14, 15, 16, 14, 17, 18, 16, 19, 14]
    weeks = [[(1, km(6), "easy"), (3, km(8), "tempo"), (6, km(long), "long")]
             for long in long_runs]
    weeks.append([(1, km(5), "easy"), (3, km(5), "easy"), (6, km(21.1), "race")])
    return weekly(monday, weeks, "half-")
