"""Reading activity files (GPX, TCX, FIT, alone, gzipped or in a zip) into plain activities.

Pure: bytes in, activities (with the parts of a file that could not be one, and why) or a reason
out, with no database and no Flask. Every refusal of a whole file is an `Unreadable` with a
sentence for the runner, so an import can record it against the file and go on with the next one.

One rule for every format (docs/decisions.md, "Imports"), so the same run exported as FIT, GPX
and TCX is stored the same:

- `started_at`: the first moment the file records (FIT: the session's start_time; TCX: the first
  lap's StartTime or the first trackpoint, never `<Id>`, which Garmin Connect cuts to the minute;
  GPX: the first timed point);
- `duration_s`: elapsed, from the start to the last moment recorded, pauses included;
- `moving_s`: the timer time, pauses left out, when the file says it (FIT total_timer_time, the
  sum of TCX laps' TotalTimeSeconds); None for GPX, which does not say;
- `distance_m`: what was recorded (FIT total_distance; TCX trackpoints' cumulative
  DistanceMeters, the laps' sum without them or where the points miss part of the run; GPX the
  length of its segments).

Libraries do the reading: GPX with gpxpy, FIT with fitdecode (every file of a chain, CRC checked,
errors raised), TCX with defusedxml's iterparse (one activity in memory at a time). All XML goes
through defusedxml with DTDs forbidden (entity expansion, external entities) before anything else
reads it.

Unpacking is bounded by what is actually unpacked, counted while it streams: each file at most
`max_file_bytes`, the upload at most `max_total_bytes` in all, and a file that unpacks to more
than 200 times its packed size (past its first MiB) is refused as a possible bomb: text formats
reach 27 to 44 times, blanks or zeros a thousand.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element, ParseError
from xml.parsers.expat import errors as expat_errors

import fitdecode
import gpxpy
import gpxpy.gpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

MAX_ZIP_ENTRIES = 100
# A file may unpack to this many times its packed size (past RATIO_FREE_BYTES): far above the
# 27-44 times real TCX and GPX reach, far below the 1,000 times of a bomb of blanks.
MAX_UNPACK_RATIO = 200
RATIO_FREE_BYTES = 1024 * 1024
# Everything one upload may unpack to (counted while unpacking, every file together).
MAX_UNPACKED_TOTAL = 1024 * 1024 * 1024
# The activities one file may hold unless the caller says otherwise (settings set it).
MAX_ACTIVITIES = 1000
_CHUNK = 1024 * 1024
FORMATS = {".gpx": "gpx", ".tcx": "tcx", ".fit": "fit"}
# The root element of a GPX or TCX document, a namespace prefix allowed.
_XML_ROOT = re.compile(rb"<(?:[\w.-]+:)?(gpx|TrainingCenterDatabase)[\s>/]")
TCX_NS = "{http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2}"
# The sport names devices use that we read as surfaces (FIT sub_sport, GPX type).
SURFACES = {"trail": "trail", "treadmill": "treadmill", "indoor": "treadmill", "track": "track",
            "street": "road", "road": "road", "virtual": "treadmill"}
FIT_ACTIVITY = "activity"
# What FIT files that are no recorded activity hold, in a runner's words (FIT profile `file`).
FIT_FILE_WORDS = {
    "device": "the watch's description of itself", "settings": "the watch's settings",
    "sport": "the watch's sport settings", "workout": "a planned workout",
    "course": "a course (a planned route)", "schedules": "a training schedule",
    "weight": "weight measurements", "totals": "the watch's running totals",
    "goals": "goals", "blood_pressure": "blood pressure readings",
    "monitoring_a": "all-day monitoring (steps, heart rate, sleep)",
    "monitoring_b": "all-day monitoring (steps, heart rate, sleep)",
    "monitoring_daily": "all-day monitoring (steps, heart rate, sleep)",
    "activity_summary": "a summary without the activity's own record",
    "segment": "a segment", "segment_list": "a list of segments",
    "exd_configuration": "the watch's data screen settings",
}
# Strava's GPX exports name the sport by its activity type number.
STRAVA_TYPES = {"1": "cycling", "4": "hiking", "9": "running", "10": "walking", "16": "swimming"}
# "No sport chosen", judged like a file that names none: FIT's generic and all, and TCX's Other
# (its schema allows only Running, Biking and Other, so Other is every sport it has no name for,
# a trail run as much as a swim).
UNNAMED_SPORTS = {"generic", "all", "other"}

# The dates a run can have: the years the API accepts (service.api.fields); outside them a clock
# was not set, and near year 1 or 9999 the arithmetic of days and zones overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# Why an activity of a file is not a run check-in (`Verdict.reason`, `Skip.reason`).
NOT_A_RUN, PACE, FRAGMENT = "not_a_run", "pace", "fragment"
UNTIMED, DAMAGED, OUT_OF_RANGE = "untimed", "damaged", "out_of_range"
TAKEN_BY_SPORT, TAKEN_BY_PACE = "sport", "pace"

# A sportless activity is a run only between these paces (s/km), judged on moving time when it
# is known: faster than 3:20 min/km (18 km/h) is a ride for the runners this app is for, slower
# than 10:00 min/km (6 km/h) is a walk or a hike (easy jogging with walk breaks stays inside).
FASTEST_UNNAMED_PACE_S = 200
SLOWEST_UNNAMED_PACE_S = 600
# Less than this is a fragment of a recording (a restart, a watch left on), not a run.
FRAGMENT_M = 100
FRAGMENT_S = 60
# GPX tracks of one outing: the next begins within this long of the last one's end.
OUTING_GAP = timedelta(minutes=10)
# TCX trackpoints' DistanceMeters count from the activity's start, unless the first reading is
# more than anyone could have run before it (this slack plus 12.5 m/s, 45 km/h, since the start):
# some Garmin devices keep counting from an earlier activity, so the distance is counted from the
# first reading instead.
ODOMETER_SLACK_M = 50
FASTEST_M_PER_S = 12.5
# Laps that run on past the last trackpoint by more than this say the points were cut short (a
# file trimmed, a track lost): the laps then give the distance as they give the time.
POINTS_CUT_SHORT = timedelta(seconds=60)


class Unreadable(Exception):
    """This file (or upload) cannot be imported; `detail` says why, for the runner."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class TooManyActivities(Unreadable):
    """The file holds more activities than the caller allowed (`limit`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"This file holds more than {limit} activities, the most read from one "
                         "file; export your history in smaller files (a year at a time, say).")
        self.limit = limit


@dataclass(frozen=True)
class Verdict:
    """Whether an activity is taken for a run, by which rule (`reason`), and why in words."""

    taken: bool
    reason: str
    detail: str


@dataclass(frozen=True)
class Activity:
    """One activity of a file, in the units check-ins use."""

    index: int  # its place in the file: with the file's hash, it names the check-in for good
    started_at: datetime
    duration_s: int  # elapsed, start to finish: a run ends at started_at + duration_s
    distance_m: int
    sport: str | None  # as the device named it; None when the file does not say
    surface: str | None
    moving_s: int | None = None  # the timer time, when the file says it
    # GPX: the time spent moving, estimated from the points; only to judge a pace, never stored.
    moving_guess_s: int | None = None

    @property
    def verdict(self) -> Verdict:
        return judge(self)


@dataclass(frozen=True)
class Skip:
    """A part of a file that could not be read as an activity at all, and why."""

    index: int
    reason: str
    detail: str
    started_at: datetime | None = None


@dataclass(frozen=True)
class Reading:
    """What one file holds: its activities, and the parts of it that are none."""

    activities: list[Activity]
    skipped: list[Skip]


def judge(activity: Activity) -> Verdict:
    """Is it a run? By its sport when the file names one, else by its pace; never a fragment."""
    sport = activity.sport
    if sport is not None and not is_running(sport):
        return Verdict(False, NOT_A_RUN, f"Recorded as {sport}, not a run.")
    if activity.duration_s < FRAGMENT_S or 0 < activity.distance_m < FRAGMENT_M:
        return Verdict(False, FRAGMENT, f"Only {activity.distance_m} m in {activity.duration_s} "
                       "s: a fragment of a recording (a restart, a watch left on), not a run.")
    if sport is not None:
        return Verdict(True, TAKEN_BY_SPORT, f"Recorded as {sport}.")
    if activity.distance_m <= 0:
        return Verdict(False, PACE, "The file names no sport and records no distance, so it "
                                    "cannot be told for a run.")
    seconds = activity.moving_s or activity.moving_guess_s or activity.duration_s
    pace = seconds * 1000 / activity.distance_m
    words = f"{_pace(pace)} min/km ({3600 / pace:.1f} km/h)"
    if pace < FASTEST_UNNAMED_PACE_S:
        return Verdict(False, PACE, f"The file names no sport, and at {words} it is faster than "
                       f"running (faster than {_pace(FASTEST_UNNAMED_PACE_S)} min/km): a ride?")
    if pace > SLOWEST_UNNAMED_PACE_S:
        return Verdict(False, PACE, f"The file names no sport, and at {words} it is slower than "
                       f"running (slower than {_pace(SLOWEST_UNNAMED_PACE_S)} min/km): a walk, "
                       "a hike, a swim?")
    return Verdict(True, TAKEN_BY_PACE,
                   f"The file names no sport; at {words} it is taken for a run.")


def is_running(sport: str) -> bool:
    plain = _plain(sport)
    return "run" in plain or "jog" in plain


def _pace(seconds_per_km: float) -> str:
    whole = round(seconds_per_km)
    return f"{whole // 60}:{whole % 60:02d}"


@dataclass(frozen=True)
class Member:
    """One file of an upload: its bytes, or why they could not be had."""

    name: str
    content: bytes | None = None
    error: str | None = None


def is_archive(filename: str) -> bool:
    return filename.lower().endswith(".zip")


def open_upload(filename: str, content: bytes, max_file_bytes: int,
                max_total_bytes: int = MAX_UNPACKED_TOTAL) -> tuple[int, Iterator[Member]]:
    """How many files the upload holds, and the files in order (gzip undone).

    The upload itself is checked here, at once: Unreadable means nothing in it can be read. The
    files are unpacked one at a time as the iterator is consumed, each counted while it streams.
    """
    budget = _Budget(max_total_bytes)
    if not is_archive(filename):
        if content[:4] == b"PK\x03\x04":
            raise Unreadable("This is a zip archive; name it .zip to import the files in it.")
        return 1, iter([_member(filename, content, budget, max_file_bytes)])
    archive = open_archive(content, max_total_bytes)
    entries = archive_entries(archive)
    return len(entries), (_entry(archive, entry, budget, max_file_bytes) for entry in entries)


def open_archive(content: bytes, max_total_bytes: int = MAX_UNPACKED_TOTAL) -> zipfile.ZipFile:
    """The zip, if it is one and its directory promises no more than an upload may unpack to.

    zipfile never hands out more bytes than an entry declares (it stops there and checks the
    CRC), so the declared sizes are a bound; what is unpacked is counted as well.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable("This is not a zip archive, or it is damaged or cut short.") from None
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise Unreadable(f"This zip holds {len(entries)} entries; at most {MAX_ZIP_ENTRIES} are "
                         "read in one import. Split it into smaller zips.")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > max_total_bytes:
        raise Unreadable(f"This zip would unpack to {_megabytes(unpacked)} in all; at most "
                         f"{_megabytes(max_total_bytes)} are read from one upload. Split it into "
                         "smaller zips.")
    return archive


def archive_entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The entries that are files of the athlete's: not folders, not macOS or dot-file clutter."""
    return [entry for entry in archive.infolist()
            if not entry.is_dir() and not entry.filename.startswith("__MACOSX/")
            and not entry.filename.rsplit("/", 1)[-1].startswith(".")]


def _entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: _Budget,
           max_file_bytes: int) -> Member:
    name = entry.filename[-255:]
    if entry.flag_bits & 0x1:
        return Member(name, error="This file is encrypted in the zip; zip it without a password.")
    if entry.file_size > max_file_bytes:
        return Member(name, error=f"This file is larger than {max_file_bytes} bytes unpacked.")
    if is_archive(entry.filename):
        return Member(name, error="A zip inside a zip is not read; import it on its own.")
    if entry.file_size > _ratio_bound(entry.compress_size):
        return Member(name, error=_BOMB)
    try:
        with archive.open(entry) as handle:
            content = _stream(handle.read,
                              min(max_file_bytes, _ratio_bound(entry.compress_size)), budget,
                              _BOMB)
    except _TooMuch as too_much:
        return Member(name, error=too_much.detail)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError, ValueError):
        return Member(name, error="This file is damaged in the zip (its checksum does not match "
                                  "or it is cut short).")
    return _member(name, content, budget, max_file_bytes, counted=True)


def _member(name: str, content: bytes, budget: _Budget, max_file_bytes: int,
            counted: bool = False) -> Member:
    try:
        if not name.lower().endswith(".gz"):
            if not counted:
                budget.spend(len(content))
            return Member(name, content)
        data = _gunzip(content, min(max_file_bytes, _ratio_bound(len(content))), budget)
    except (Unreadable, _TooMuch) as error:
        return Member(name, error=error.detail)
    return Member(name, data)


def _gunzip(content: bytes, limit: int, budget: _Budget) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    taken = 0

    def read(size: int) -> bytes:
        nonlocal taken
        while not inflater.eof:
            if inflater.unconsumed_tail:
                data = inflater.decompress(inflater.unconsumed_tail, size)
            elif taken < len(content):
                chunk = content[taken:taken + _CHUNK]
                taken += len(chunk)
                data = inflater.decompress(chunk, size)
            else:
                return b""  # the input is over before the stream: cut short
            if data:
                return data
        return b""

    try:
        data = _stream(read, limit, budget,
                       "This .gz file unpacks to too much; it is refused as a possible bomb.")
    except zlib.error:
        raise Unreadable("This .gz file is damaged or not gzip at all.") from None
    if not inflater.eof:
        raise Unreadable("This .gz file is cut short.")
    return data


def _stream(read: Callable[[int], bytes], limit: int, budget: _Budget, too_much: str) -> bytes:
    """Everything `read(size)` gives, counted as it comes: at most `limit` bytes for this file
    and what is left of the upload's budget."""
    parts, size = [], 0
    while True:
        data = read(_CHUNK)
        if not data:
            return b"".join(parts)
        size += len(data)
        if size > limit:
            raise _TooMuch(too_much)
        budget.spend(len(data))
        parts.append(data)


_BOMB = ("This file unpacks to far more than activity files ever do (over "
         f"{MAX_UNPACK_RATIO} times its packed size); it is refused as a possible zip bomb.")


def _ratio_bound(packed: int) -> int:
    return max(MAX_UNPACK_RATIO * packed, RATIO_FREE_BYTES)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MB"


class _TooMuch(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Budget:
    """Bytes the upload may still unpack to, all files together."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _TooMuch(f"The upload unpacks to more than {_megabytes(self.total)} in all, the "
                           "most read from one upload; this file and those after it were not "
                           "read. Import them in another zip.")


def identify(name: str, content: bytes) -> str:
    """The name, with the suffix its content calls for when the name itself says nothing.

    A browser sends a `Blob` as "blob", and some apps send no name at all: such an upload is
    known by its first bytes (a zip's or gzip's magic number, FIT's ".FIT" header, the root of a
    GPX or TCX document). A name that does say a format is kept as it is, so a file named for
    one format and holding another is still refused with a hint to rename it.
    """
    name = name or "upload"
    if is_archive(name) or format_of(name) is not None:
        return name
    if content[:4] == b"PK\x03\x04":
        return f"{name}.zip"
    if content[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(content[:65536], 4096)
        except zlib.error:
            return name
        kind = _kind_of(head)
        return f"{name}.{kind}.gz" if kind else name
    kind = _kind_of(content[:4096])
    return f"{name}.{kind}" if kind else name


def _kind_of(head: bytes) -> str | None:
    """gpx, tcx or fit by the first bytes of a file, or None."""
    if _sniff(head) == "fit":
        return "fit"
    root = _XML_ROOT.search(head)
    if root is None:
        return None
    return "gpx" if root[1] == b"gpx" else "tcx"


def format_of(name: str) -> str | None:
    """gpx, tcx or fit, by the file's name (a .gz suffix aside)."""
    lower = name.lower().removesuffix(".gz")
    return next((kind for suffix, kind in FORMATS.items() if lower.endswith(suffix)), None)


def read(name: str, content: bytes, max_activities: int = MAX_ACTIVITIES) -> Reading:
    """The activities in one file, or Unreadable saying why none can be imported from it.

    More than `max_activities` activities (tracks, sessions) is TooManyActivities, found while
    reading, before the rest of the file is read.
    """
    kind = format_of(identify(name, content))
    if kind is None:
        raise Unreadable("Not a GPX, TCX or FIT file (by its name or its content); nothing was "
                         "imported from it.")
    if not content:
        raise Unreadable("This file is empty.")
    held = _sniff(content)
    if kind == "fit":
        if held == "xml":
            raise Unreadable("Named .fit but holds XML (a GPX or TCX file?); rename it and "
                             "import it again.")
        return _read_fit(content, max_activities)
    if held == "fit":
        raise Unreadable(f"Named .{kind} but holds FIT data; rename it to .fit and import it "
                         "again.")
    content = _xml_start(content)
    try:
        return _read_xml(content, kind, max_activities)
    except _UnboundPrefix:
        # Strava writes `gpxdata:` (and others their own prefixes) without declaring them: not
        # XML strictly, but nothing is missing. Declare them on the root and read it again.
        return _read_xml(_declare_prefixes(content), kind, max_activities)


def _read_xml(content: bytes, kind: str, max_activities: int) -> Reading:
    if kind == "tcx":
        return _read_tcx(content, max_activities)
    _check_gpx(content, max_activities)
    return _read_gpx(content)


def _sniff(content: bytes) -> str | None:
    if len(content) >= 12 and content[8:12] == b".FIT":
        return "fit"
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        return "xml"
    return None


def _xml_start(content: bytes) -> bytes:
    """The document from its first `<`: a byte-order mark and blanks before `<?xml` (a Polar
    V800's TCX) make expat refuse the declaration as misplaced."""
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")


class _UnboundPrefix(Exception):
    pass


def _events(content: bytes, kind: str) -> Iterator[Element]:
    """Each element of the document as it ends (defusedxml's iterparse), the root checked
    against the file's name first, and every failure worded for the runner."""
    expected = {"gpx": "gpx", "tcx": "TrainingCenterDatabase"}[kind]
    try:
        first = True
        for event, element in iterparse(io.BytesIO(content), events=("start", "end"),
                                        forbid_dtd=True):
            if first:
                first = False
                _check_root(element.tag.rsplit("}", 1)[-1], kind, expected)
            if event == "end":
                yield element
    except DefusedXmlException:
        raise Unreadable("XML with a DOCTYPE or entities is not accepted.") from None
    except ParseError as error:
        raise _xml_error(error, kind) from None


def _check_root(tag: str, kind: str, expected: str) -> None:
    if kind == "gpx" and tag == "TrainingCenterDatabase":
        raise Unreadable("Named .gpx but holds TCX data; rename it to .tcx and import it again.")
    if kind == "tcx" and tag == "gpx":
        raise Unreadable("Named .tcx but holds GPX data; rename it to .gpx and import it again.")
    if tag != expected:
        raise Unreadable(f"This XML is not a {kind.upper()} file (its root is <{tag}>).")


def _xml_error(error: ParseError, kind: str) -> Exception:
    code = getattr(error, "code", None)
    line, column = getattr(error, "position", ("?", "?"))
    if code == _EXPAT_CODE["XML_ERROR_UNBOUND_PREFIX"]:
        return _UnboundPrefix()
    name = kind.upper()
    if code in _CUT_SHORT_CODES:
        return Unreadable(f"This {name} file is cut short (it ends before its last tag), so it "
                          "is not well-formed XML: copy or export it again.")
    return Unreadable(f"This {name} file is damaged: it is not well-formed XML (line {line}, "
                      f"column {column}). Export it again from the app it came from.")


_EXPAT_CODE = {name: expat_errors.codes[getattr(expat_errors, name)] for name in (
    "XML_ERROR_UNBOUND_PREFIX", "XML_ERROR_NO_ELEMENTS", "XML_ERROR_UNCLOSED_TOKEN",
    "XML_ERROR_PARTIAL_CHAR", "XML_ERROR_UNCLOSED_CDATA_SECTION")}
_CUT_SHORT_CODES = {_EXPAT_CODE[name] for name in (
    "XML_ERROR_NO_ELEMENTS", "XML_ERROR_UNCLOSED_TOKEN", "XML_ERROR_PARTIAL_CHAR",
    "XML_ERROR_UNCLOSED_CDATA_SECTION")}
_PREFIX_USED = re.compile(rb"</?([A-Za-z_][\w.-]*):[A-Za-z_]|\s([A-Za-z_][\w.-]*):[\w.-]+\s*=")
_PREFIX_DECLARED = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)\s*=")


def _declare_prefixes(content: bytes) -> bytes:
    used = {match[1] or match[2] for match in _PREFIX_USED.finditer(content)}
    declared = {match[1] for match in _PREFIX_DECLARED.finditer(content)}
    missing = sorted(used - declared - {b"xml", b"xmlns"})
    root = _XML_ROOT.search(content)
    if not missing or root is None:
        raise Unreadable("This file uses a namespace prefix it never declares, and it could not "
                         "be mended; export it again.")
    declarations = b"".join(b' xmlns:%s="urn:backstride:undeclared:%s"' % (prefix, prefix)
                            for prefix in missing)
    at = root.end() - 1
    return content[:at] + declarations + content[at:]


def _check_gpx(content: bytes, max_activities: int) -> None:
    """Well-formed, no DTD, a GPX root, and no more tracks than allowed, before gpxpy reads it
    (gpxpy builds the whole document; this pass holds one element at a time)."""
    tracks = 0
    for element in _events(content, "gpx"):
        if element.tag.rsplit("}", 1)[-1] == "trk":
            tracks += 1
            if tracks > max_activities:
                raise TooManyActivities(max_activities)
            element.clear()


@dataclass
class _Piece:
    """A timed GPX track, before the tracks of one outing are joined."""

    index: int
    start: datetime
    end: datetime
    metres: float
    moving_s: float
    sport: str | None


def _read_gpx(content: bytes) -> Reading:
    try:
        document = gpxpy.parse(content.decode("utf-8", errors="replace"))
    except (gpxpy.gpx.GPXException, ValueError, TypeError, AttributeError, OverflowError):
        raise Unreadable("This GPX file could not be read: a value in it (a time, a "
                         "coordinate) is malformed.") from None
    pieces, skipped, points = [], [], 0
    for index, track in enumerate(document.tracks):
        count = track.get_points_no()
        points += count
        if not count:
            continue
        bounds = track.get_time_bounds()
        if bounds.start_time is None or bounds.end_time is None:
            skipped.append(Skip(index, UNTIMED, "This track has no time stamps, so when it "
                                "started and how long it took are unknown."))
            continue
        try:
            start, end = _utc(bounds.start_time), _utc(bounds.end_time)
        except (OverflowError, ValueError):
            skipped.append(_out_of_range(index, None))
            continue
        moving = track.get_moving_data(raw=True)
        pieces.append(_Piece(index, start, end, track.length_2d() or 0.0,
                             moving.moving_time if moving else 0.0, track.type))
    if not points:
        raise Unreadable("This GPX holds no track points (a route or waypoints only?).")
    if not pieces:
        raise Unreadable("This GPX has no time stamps, so when the run started and how long "
                         "it took are unknown; export it again with times.")
    activities = []
    for outing in _outings(pieces):
        first = outing[0]
        start = min(piece.start for piece in outing)
        end = max(piece.end for piece in outing)
        if not _in_range(start, end):
            skipped.append(_out_of_range(first.index, start))
            continue
        activities.append(Activity(
            index=first.index, started_at=start, duration_s=round((end - start).total_seconds()),
            distance_m=round(sum(piece.metres for piece in outing)), sport=_gpx_sport(first.sport),
            surface=_surface(first.sport), moving_s=None,
            moving_guess_s=round(sum(piece.moving_s for piece in outing))))
    return Reading(activities, sorted(skipped, key=lambda skip: skip.index))


def _outings(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Tracks of one outing joined: by start, each beginning within OUTING_GAP of the end of the
    one before, of the same sport (GPSBabel and some watches start a track at every signal loss
    or restart)."""
    outings: list[list[_Piece]] = []
    for piece in sorted(pieces, key=lambda piece: (piece.start, piece.index)):
        if outings:
            last = outings[-1]
            if piece.start - max(p.end for p in last) <= OUTING_GAP and \
                    _plain(piece.sport or "") == _plain(last[0].sport or ""):
                last.append(piece)
                continue
        outings.append([piece])
    return outings


def _gpx_sport(raw: str | None) -> str | None:
    text = (raw or "").strip()
    if text.isdigit():  # a Strava number: its name, or unknown (judged by pace) if we lack it
        return STRAVA_TYPES.get(text.lstrip("0") or "0")
    return _sport(text)


def _read_tcx(content: bytes, max_activities: int) -> Reading:
    activities, skipped, index = [], [], -1
    for element in _events(content, "tcx"):
        if element.tag != f"{TCX_NS}Activity":
            continue
        index += 1
        if index >= max_activities:
            raise TooManyActivities(max_activities)
        outcome = _tcx_activity(index, element)
        element.clear()
        (activities if isinstance(outcome, Activity) else skipped).append(outcome)
    if index < 0:
        raise Unreadable("This TCX file holds no activities (a course or a workout only?).")
    return Reading(activities, skipped)


def _tcx_activity(index: int, node: Element) -> Activity | Skip:
    laps = node.findall(f"{TCX_NS}Lap")
    try:
        lap_starts = [_instant(lap.attrib["StartTime"]) if "StartTime" in lap.attrib else None
                      for lap in laps]
        lap_seconds = [_number(lap.findtext(f"{TCX_NS}TotalTimeSeconds")) for lap in laps]
        lap_metres = [_number(lap.findtext(f"{TCX_NS}DistanceMeters")) for lap in laps]
        times, readings, positions = [], [], False
        for point in node.iter(f"{TCX_NS}Trackpoint"):
            text = point.findtext(f"{TCX_NS}Time")
            time = _instant(text) if text else None
            if time is not None:
                times.append(time)
            distance = point.findtext(f"{TCX_NS}DistanceMeters")
            if distance:
                readings.append((time, float(distance)))
            positions = positions or point.find(f"{TCX_NS}Position") is not None
    except (ValueError, OverflowError):
        return Skip(index, DAMAGED, "This activity has a time or a number that cannot be read.")
    moments = [at for at in lap_starts if at is not None] + times
    if not moments:
        return Skip(index, DAMAGED, "This activity has no laps or points with a time, so when "
                                    "it was and how long it took are unknown.")
    start = min(moments)
    try:
        lap_ends = [at + timedelta(seconds=seconds)
                    for at, seconds in zip(lap_starts, lap_seconds, strict=True)
                    if at is not None and seconds]
        end = max([start, *times, *lap_ends])
    except OverflowError:
        return _out_of_range(index, start)
    if not _in_range(start, end):
        return _out_of_range(index, start)
    elapsed = round((end - start).total_seconds())
    timer = [seconds for seconds in lap_seconds if seconds is not None]
    moving = min(round(sum(timer)), elapsed) if timer else None
    laps_total = sum(metres for metres in lap_metres if metres is not None)
    cut_short = bool(times and lap_ends) and max(lap_ends) - max(times) > POINTS_CUT_SHORT
    distance = _tcx_distance(start, readings, laps_total, cut_short)
    surface = "treadmill" if times and not positions and distance > 0 else None
    return Activity(index=index, started_at=start, duration_s=elapsed,
                    distance_m=round(distance), sport=_sport(node.attrib.get("Sport")),
                    surface=surface, moving_s=moving)


def _tcx_distance(start: datetime, readings: list[tuple[datetime | None, float]],
                  laps_total: float, cut_short: bool) -> float:
    """What the trackpoints recorded, or their laps' sum where the points cannot say it all.

    The laps' sum stands in when there are no readings; and where the readings miss part of
    the activity (they stop before the laps do, or they count from an earlier activity, so what
    was run before the first reading is unknown), the laps' sum when it says more.
    """
    if not readings:
        return laps_total
    first_at, first = readings[0]
    since_start = (first_at - start).total_seconds() if first_at is not None else 0.0
    covered = max(metres for _, metres in readings)
    odometer = first > ODOMETER_SLACK_M + FASTEST_M_PER_S * max(since_start, 0.0)
    if odometer:
        covered -= first
    return max(covered, laps_total) if cut_short or odometer else covered


def _read_fit(content: bytes, max_activities: int) -> Reading:
    """Every file of a chain (a watch may chain an activity with its settings or monitoring):
    judged by the sessions found in all of them."""
    sessions, file_types = [], []
    try:
        with fitdecode.FitReader(io.BytesIO(content), check_crc=fitdecode.CrcCheck.RAISE,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "file_id":
                    file_types.append(frame.get_value("type", fallback=None))
                elif frame.name == "session":
                    sessions.append(frame)
                    if len(sessions) > max_activities:
                        raise TooManyActivities(max_activities)
    except fitdecode.FitHeaderError:
        if sessions:
            raise Unreadable("This FIT file has data after its end that is not FIT; copy it "
                             "from the watch again.") from None
        raise Unreadable("Not a FIT file: its header is missing or damaged.") from None
    except fitdecode.FitEOFError:
        raise Unreadable("This FIT file is cut short; copy it from the watch again.") from None
    except fitdecode.FitCRCError:
        raise Unreadable("This FIT file is damaged: its checksum does not match; copy it from "
                         "the watch again.") from None
    except (fitdecode.FitError, ValueError, KeyError, IndexError, struct.error):
        raise Unreadable("This FIT file is damaged and could not be read; copy it from the "
                         "watch again.") from None
    if not sessions:
        others = [str(kind) for kind in file_types if kind is not None and kind != FIT_ACTIVITY]
        if others:
            words = sorted({FIT_FILE_WORDS.get(kind, "data the watch keeps for itself")
                            for kind in others})
            raise Unreadable(f"This FIT file holds {' and '.join(words)}, not a recorded "
                             "activity; nothing was imported from it. Your runs are the files "
                             "in the watch's Activity folder, or the app's activity export.")
        raise Unreadable("This FIT file holds no session summary, so its time and distance are "
                         "unknown.")
    activities, skipped = [], []
    for index, session in enumerate(sessions):
        outcome = _fit_activity(index, session)
        (activities if isinstance(outcome, Activity) else skipped).append(outcome)
    return Reading(activities, skipped)


def _fit_activity(index: int, session: fitdecode.FitDataMessage) -> Activity | Skip:
    start = session.get_value("start_time", fallback=None)
    elapsed = session.get_value("total_elapsed_time", fallback=None)
    timer = session.get_value("total_timer_time", fallback=None)
    distance = session.get_value("total_distance", fallback=None)
    if not isinstance(start, datetime) or (elapsed is None and timer is None):
        return Skip(index, DAMAGED, "This session has no start time or duration.")
    try:
        start = _utc(start)
        elapsed_s = float(elapsed if elapsed is not None else timer)
        end = start + timedelta(seconds=elapsed_s)
    except (OverflowError, ValueError, TypeError):
        return _out_of_range(index, None)
    if not _in_range(start, end):
        return _out_of_range(index, start)
    sport = session.get_value("sport", fallback=None)
    sub_sport = session.get_value("sub_sport", fallback=None)
    return Activity(
        index=index, started_at=start, duration_s=round(elapsed_s),
        distance_m=round(float(distance or 0)), sport=_sport(None if sport is None else str(sport)),
        surface=_surface(None if sub_sport is None else str(sub_sport)),
        moving_s=None if timer is None else min(round(float(timer)), round(elapsed_s)))


def _in_range(start: datetime, end: datetime) -> bool:
    return start >= EARLIEST and end < LATEST


def _out_of_range(index: int, start: datetime | None) -> Skip:
    when = f" ({start:%Y-%m-%d})" if start is not None else ""
    return Skip(index, OUT_OF_RANGE, f"Its date{when} is not one a run can have (only 1970 to "
                "2099): the watch's clock was probably not set. Nothing was imported from it.",
                started_at=start if start is not None and EARLIEST <= start < LATEST else None)


def _number(text: str | None) -> float | None:
    return None if text is None or not text.strip() else float(text)


def _plain(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _sport(raw: str | None) -> str | None:
    """The sport as the file names it, or None when it names none (UNNAMED_SPORTS)."""
    text = (raw or "").strip()
    return None if _plain(text) in UNNAMED_SPORTS else text[:40] or None


def _surface(raw: str | None) -> str | None:
    plain = _plain(raw or "")
    return next((surface for word, surface in SURFACES.items() if word in plain), None)


def _instant(text: str) -> datetime:
    return _utc(datetime.fromisoformat(text.strip()))


def _utc(moment: datetime) -> datetime:
    """Times without a zone are UTC, as GPX, TCX and FIT all specify."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

