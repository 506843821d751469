"""A plan exported from a spreadsheet as CSV: one planned run a row. Pure.

The first row names the columns: `date` and one of `distance_km`, `distance_mi` or
`distance_m`, and optionally `kind` and `notes` (any others are ignored, and said to be). Dates
are written YYYY-MM-DD; `14/03/2026` could be March or a month's 3rd and is not guessed at. A
distance may use a decimal comma (`8,5`) and may end in its column's unit (`8.5 km`); a row with
no distance, a distance of 0 or the kind `rest` is a rest day and is skipped. Commas, semicolons
(European spreadsheets) and tabs all separate columns; UTF-8 (with or without a byte order mark)
and Windows-1252 are read. Each problem names its row, counted as the spreadsheet counts them
(the header is row 1), and its column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from service.domain.errors import Invalid
from service.domain.plans import rules
from service.domain.plans.rules import KINDS, MAX_DISTANCE_M, MIN_DISTANCE_M

MAX_ROWS = 500  # as many as a batch holds
MAX_NOTES = 2000
MAX_ERRORS = 50  # rows with problems named in one answer
DISTANCE_COLUMNS = {"distance_km": Decimal(1000), "distance_mi": Decimal("1609.344"),
                    "distance_m": Decimal(1)}
UNIT_OF = {"distance_km": "km", "distance_mi": "mi", "distance_m": "m"}
KNOWN = {"date", "kind", "notes", *DISTANCE_COLUMNS}
SYNONYMS = {"long run": "long", "long_run": "long", "interval": "intervals", "easy run": "easy",
            "recovery": "easy"}
REST = ("rest", "rest day", "off")


@dataclass(frozen=True)
class Row:
    row: int  # as the spreadsheet numbers it: the header is row 1
    day: date
    distance_m: int
    kind: str | None
    notes: str | None


@dataclass(frozen=True)
class Sheet:
    rows: list[Row]
    ignored_columns: list[str] = field(default_factory=list)
    rest_days: int = 0


class Unreadable(Invalid):
    """The file cannot be read as a plan; `errors` names each row's problems by column, or the
    file's as a whole under `file`."""

    def __init__(self, detail: str, errors: dict[str, object] | None = None, *,
                 field: str = "file") -> None:
        super().__init__(detail, field=field)
        self.errors = errors if errors is not None else {field: [detail]}


def read(data: bytes, today: date) -> Sheet:
    text = _decode(data)
    if not text.strip():
        raise Unreadable("The file is empty.", {"file": ["Empty: no header row, no rows."]})
    delimiter, header = _header(text)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        next(records)
        body = [(number, record) for number, record in enumerate(records, start=2)]
    except csv.Error as error:
        raise Unreadable(f"The file is not CSV a spreadsheet wrote: {error}.",
                         {"file": [f"Not readable as CSV: {error}."]}) from None
    distance_column = next(name for name in header if name in DISTANCE_COLUMNS)
    problems: dict[str, dict[str, list[str]]] = {}
    rows: list[Row] = []
    rest = 0
    for number, record in body:
        cells = {name: (record[i].strip() if i < len(record) else "")
                 for i, name in enumerate(header)}
        if not any(cells.values()):
            continue
        errors: dict[str, list[str]] = {}
        kind = _kind(cells.get("kind", ""), errors)
        distance = _distance(cells[distance_column], distance_column, errors)
        if kind == "rest" or (distance == 0 and not errors and kind is None):
            rest += 1
            continue
        if distance == 0 and distance_column not in errors:
            errors[distance_column] = [f"No distance for this {kind} run." if kind
                                       else "No distance."]
        day = _day(cells["date"], today, errors)
        notes = cells.get("notes") or None
        if notes is not None and len(notes) > MAX_NOTES:
            errors["notes"] = [f"Longer than {MAX_NOTES} characters."]
        if errors:
            if len(problems) < MAX_ERRORS:
                problems[str(number)] = errors
            continue
        rows.append(Row(number, day, distance, kind, notes))
    if problems:
        first = next(iter(problems.items()))
        column, messages = next(iter(first[1].items()))
        more = f" ({len(problems)} rows with problems)" if len(problems) > 1 else ""
        raise Unreadable(f"Row {first[0]}, column {column}: {messages[0]}{more}",
                         {"rows": problems})
    if len(rows) > MAX_ROWS:
        raise Unreadable(f"{len(rows)} runs; a file holds at most {MAX_ROWS}.",
                         {"file": [f"More than {MAX_ROWS} runs: split it."]})
    if not rows:
        raise Unreadable("No planned runs in the file, only the header or rest days.",
                         {"file": ["No rows with a date and a distance."]})
    ignored = [name for name in header if name not in KNOWN]
    return Sheet(rows, ignored, rest)


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise Unreadable("This is not a text file (a spreadsheet's own format?): export it as "
                         "CSV.", {"file": ["Not text: export the sheet as CSV."]})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise Unreadable("The file's text is neither UTF-8 nor Windows-1252: export it as CSV "
                         "(UTF-8).", {"file": ["Unknown text encoding."]}) from None


def _normalise(name: str) -> str:
    name = name.strip().lstrip("\ufeff").lower()
    for old, new in (("(", "_"), (")", ""), (" ", "_"), ("-", "_")):
        name = name.replace(old, new)
    while "__" in name:
        name = name.replace("__", "_")
    return name.strip("_")


def _header(text: str) -> tuple[str, list[str]]:
    """The separator, and the column names of the first row."""
    first_line = text.splitlines()[0]
    for delimiter in (",", ";", "\t"):
        names = [_normalise(name) for name in next(csv.reader([first_line],
                                                              delimiter=delimiter))]
        if "date" in names:
            distances = [name for name in names if name in DISTANCE_COLUMNS]
            if len(distances) != 1:
                raise Unreadable(
                    "The first row must name one distance column: distance_km, distance_mi or "
                    "distance_m.", {"file": ["One of distance_km, distance_mi, distance_m."]})
            twice = sorted({name for name in names if names.count(name) > 1 and name})
            if twice:
                raise Unreadable(f"The column {twice[0]} is named twice.",
                                 {"file": [f"{twice[0]} named twice."]})
            return delimiter, names
    raise Unreadable("The first row must name the columns: date, then distance_km, distance_mi "
                     "or distance_m, and kind and notes if you like.",
                     {"file": ["No header row naming date and a distance column."]})


def _day(cell: str, today: date, errors: dict[str, list[str]]) -> date:
    value = cell.split("T")[0].split(" ")[0] if cell else ""
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        example = today.isoformat()
        errors["date"] = [f"'{cell}' is not a date: write it as YYYY-MM-DD ({example})."
                          if cell else f"No date: write it as YYYY-MM-DD ({example})."]
        return today
    if not today - timedelta(days=rules.DAYS_BACK) <= day <= today + timedelta(
            days=rules.DAYS_AHEAD):
        errors["date"] = [f"{day.isoformat()} is more than a year ago or two years ahead: "
                          "check the year."]
    return day


def _distance(cell: str, column: str, errors: dict[str, list[str]]) -> int:
    value = cell.lower().replace("\u00a0", " ").strip()
    unit = UNIT_OF[column]
    if value.endswith(unit):
        value = value[: -len(unit)].strip()
    if not value:
        return 0
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors[column] = [f"'{cell}' is not a number of {unit}."]
        return 0
    if not number.is_finite() or number < 0:
        errors[column] = [f"'{cell}' is not a distance."]
        return 0
    metres = int((number * DISTANCE_COLUMNS[column]).to_integral_value(rounding=ROUND_HALF_UP))
    if number and metres < MIN_DISTANCE_M:
        errors[column] = [f"Under {MIN_DISTANCE_M} m: is the column's unit right?"]
    elif metres > MAX_DISTANCE_M:
        errors[column] = [f"Over {MAX_DISTANCE_M // 1000} km: is the column's unit right?"]
    return metres


def _kind(cell: str, errors: dict[str, list[str]]) -> str | None:
    value = " ".join(cell.lower().split())
    if not value:
        return None
    if value in REST:
        return "rest"
    value = SYNONYMS.get(value, value)
    if value not in KINDS:
        errors["kind"] = [f"'{cell}' is not a kind: use {', '.join(KINDS)} or leave it empty."]
        return None
    return value

