"""A plan as spreadsheets export it: separators, units, encodings, and problems by row and column;
and what the notice the day before says."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.domain.plans import messages, spreadsheet
from service.domain.plans import rules as plans

TODAY = date(2026, 3, 2)


def test_miles_with_tabs_in_windows_1252_and_a_byte_order_mark_elsewhere():
    sheet = spreadsheet.read("date\tdistance_mi\tnotes\n2026-03-04\t3.1\tcaf\xe9 loop\n"
                             .encode("cp1252"), TODAY)
    (row,) = sheet.rows
    assert (row.row, row.day, row.distance_m, row.notes) == (2, date(2026, 3, 4), 4989,
                                                             "caf\u00e9 loop")
    bom = spreadsheet.read("\ufeffDate,Distance_m,Pace\n2026-03-05,5000,5:30\n"
                           .encode("utf-8"), TODAY)
    assert bom.rows[0].distance_m == 5000 and bom.ignored_columns == ["pace"]


@pytest.mark.parametrize(("body", "row", "column"), [
    ("2026-03-04,0.05", "2", "distance_km"),  # 50 m: the unit is wrong
    ("2026-03-04,900", "2", "distance_km"),  # 900 km
    ("04/03/2026,5", "2", "date"),
    ("2031-03-04,5", "2", "date"),  # a typo of the year
    ("2026-03-04,5,jog", "2", "kind"),
    ("2026-03-04,,long", "2", "distance_km"),  # a long run of no distance
])
def test_each_problem_names_its_row_and_column(body, row, column):
    with pytest.raises(spreadsheet.Unreadable) as raised:
        spreadsheet.read(f"date,distance_km,kind\n{body}\n".encode(), TODAY)
    assert column in raised.value.errors["rows"][row]
    assert raised.value.detail.startswith(f"Row {row}, column {column}:")


def test_a_file_that_is_not_a_plan_says_so():
    for data in (b"", b"PK\x03\x04\x00\x00", b"name,km\nx,5\n", b"date,distance_km,distance_mi\n"):
        with pytest.raises(spreadsheet.Unreadable) as raised:
            spreadsheet.read(data, TODAY)
        assert raised.value.errors.get("file"), data


def test_the_notice_says_what_is_planned_why_and_what_to_do_in_the_athletes_units():
    done = [plans.Done(TODAY - timedelta(days=k), 16_000) for k in (3, 10, 17)]
    planned = [plans.Planned("long", TODAY + timedelta(days=1), 20_000, "long")]
    (judged,) = plans.judge(done, planned, TODAY, 0.3).flags
    title, body, data = messages.tomorrow(judged, "mi", 0.3)
    assert body.startswith("Tomorrow's planned 12.4 mi is 25% longer than your longest run of "
                           "the last 30 days, 9.9 mi.")
    assert "Consider keeping it under 10.9 mi." in body and "Frandsen" in body
    assert title == "Tomorrow's 12.4 mi: a big step up"
    assert data["rule"] == "plan_preflight" and data["date"] == "2026-03-03"
    assert data["spike"]["class"] == "small" and data["units"] == "mi"
    assert messages.dedupe_key(judged) == "plan_preflight:long:2026-03-03"
