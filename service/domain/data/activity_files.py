"""Reading activity files (GPX, TCX, FIT, alone, gzipped or in a zip) into plain activities.

Pure: bytes in, activities or a reason out, with no database and no Flask. Every refusal is an
`Unreadable` with a sentence for the runner, so an import can record it against the file and go
on with the next one.

- GPX with gpxpy, FIT with fitdecode (CRC checked, errors raised, not warned about), TCX with
  defusedxml's ElementTree: its lap summaries are all we need, and tcxreader merges every activity
  of a file into one and drops laps without GPS points (treadmill runs).
- XML is parsed with defusedxml first: a DOCTYPE (entity expansion, external entities) is refused.
- A file's name must match what it holds: a FIT named .gpx is refused with a hint to rename it,
  rather than guessed at.
- A zip with more than 100 entries, or that would unpack to more than 20 times its own size, is
  refused whole as a possible zip bomb. zipfile never hands out more bytes than an entry declares
  (it stops there and checks the CRC), so the declared sizes are a bound we can check up front.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element, ParseError

import fitdecode
import gpxpy
import gpxpy.gpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_ZIP_ENTRIES = 100
MAX_UNPACK_RATIO = 20
FORMATS = {".gpx": "gpx", ".tcx": "tcx", ".fit": "fit"}
# The root element of a GPX or TCX document, a namespace prefix allowed.
_XML_ROOT = re.compile(rb"<(?:[\w.-]+:)?(gpx|TrainingCenterDatabase)[\s>/]")
TCX_NS = "{http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2}"
# The sport names devices use that we read as surfaces (FIT sub_sport, GPX type).
SURFACES = {"trail": "trail", "treadmill": "treadmill", "indoor": "treadmill", "track": "track",
            "street": "road", "road": "road"}
FIT_ACTIVITY = "activity"


class Unreadable(Exception):
    """This file (or upload) cannot be imported; `detail` says why, for the runner."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


STRAVA_RUN_TYPE = "9"  # Strava activity type numbers: 1 ride, 9 run, 10 walk, ...

@dataclass(frozen=True)
class Activity:
    """One activity of a file, in the units check-ins use."""

    index: int  # its place in the file: with the file's hash, it names the check-in for good
    started_at: datetime
    duration_s: int  # elapsed, start to finish: a run ends at started_at + duration_s
    distance_m: int
    sport: str | None  # as the device named it; None when the file does not say
    surface: str | None

    @property
    def is_run(self) -> bool:
        """Files without a sport are taken for runs: they came to a running app. Strava's GPX
        exports name the sport by its activity type number, where 9 is a run."""
        return self.sport is None or "run" in _plain(self.sport) or \
            self.sport.strip() == STRAVA_RUN_TYPE


@dataclass(frozen=True)
class Member:
    """One file of an upload: its bytes, or why they could not be had."""

    name: str
    content: bytes | None = None
    error: str | None = None


def is_archive(filename: str) -> bool:
    return filename.lower().endswith(".zip")


def open_upload(filename: str, content: bytes,
                max_file_bytes: int) -> tuple[int, Iterator[Member]]:
    """How many files the upload holds, and the files in order (gzip undone).

    The upload itself is checked here, at once: Unreadable means nothing in it can be read. The
    files are unpacked one at a time as the iterator is consumed.
    """
    budget = _Budget(MAX_UNPACK_RATIO * len(content))
    if not is_archive(filename):
        if content[:4] == b"PK\x03\x04":
            raise Unreadable("This is a zip archive; name it .zip to import the files in it.")
        return 1, iter([_member(filename, content, budget, max_file_bytes)])
    archive = open_archive(content)
    entries = archive_entries(archive)
    budget.spend(sum(entry.file_size for entry in entries))
    return len(entries), (_entry(archive, entry, budget, max_file_bytes) for entry in entries)


def open_archive(content: bytes) -> zipfile.ZipFile:
    """The zip, if it is one and not a bomb; its entry list is checked before anything is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable("This is not a zip archive, or it is damaged or cut short.") from None
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise Unreadable(f"This zip holds {len(entries)} entries; at most {MAX_ZIP_ENTRIES} are "
                         "read in one import. Split it into smaller zips.")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACK_RATIO * len(content):
        raise Unreadable(f"This zip would unpack to more than {MAX_UNPACK_RATIO} times its size "
                         f"({unpacked} bytes); it is refused as a possible zip bomb.")
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
    try:
        with archive.open(entry) as handle:
            content = handle.read(entry.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError, ValueError):
        return Member(name, error="This file is damaged in the zip (its checksum does not match "
                                  "or it is cut short).")
    return _member(name, content, budget, max_file_bytes)


def _member(name: str, content: bytes, budget: _Budget, max_file_bytes: int) -> Member:
    if not name.lower().endswith(".gz"):
        return Member(name, content)
    try:
        data = _gunzip(content, min(budget.left, max_file_bytes))
    except Unreadable as error:
        return Member(name, error=error.detail)
    budget.spend(len(data))  # never overdrawn: the limit above was what was left
    return Member(name, data)


def _gunzip(content: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(content, limit + 1)
    except zlib.error:
        raise Unreadable("This .gz file is damaged or not gzip at all.") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise Unreadable("This .gz file unpacks to too much; it is refused as a possible bomb.")
    if not inflater.eof:
        raise Unreadable("This .gz file is cut short.")
    return data


class _Budget:
    """Bytes the upload may still unpack to (20 times its size, all files together)."""

    def __init__(self, total: int) -> None:
        self.left = total

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise Unreadable(f"This upload would unpack to more than {MAX_UNPACK_RATIO} times its "
                             "size; it is refused as a possible zip bomb.")


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


def read(name: str, content: bytes) -> list[Activity]:
    """The activities in one file, or Unreadable saying why none can be imported from it."""
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
        return _read_fit(content)
    if held == "fit":
        raise Unreadable(f"Named .{kind} but holds FIT data; rename it to .fit and import it "
                         "again.")
    root = _parse_xml(content, kind)
    tag = root.tag.rsplit("}", 1)[-1]
    if kind == "gpx" and tag == "TrainingCenterDatabase":
        raise Unreadable("Named .gpx but holds TCX data; rename it to .tcx and import it again.")
    if kind == "tcx" and tag == "gpx":
        raise Unreadable("Named .tcx but holds GPX data; rename it to .gpx and import it again.")
    if tag != {"gpx": "gpx", "tcx": "TrainingCenterDatabase"}[kind]:
        raise Unreadable(f"This XML is not a {kind.upper()} file (its root is <{tag}>).")
    return _read_gpx(content) if kind == "gpx" else _read_tcx(root)


def _sniff(content: bytes) -> str | None:
    if len(content) >= 12 and content[8:12] == b".FIT":
        return "fit"
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        return "xml"
    return None


def _parse_xml(content: bytes, kind: str) -> Element:
    try:
        return fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise Unreadable("XML with a DOCTYPE or entities is not accepted.") from None
    except ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else "?"
        raise Unreadable(f"This {kind.upper()} file is not well-formed XML (line {line}): it may "
                         "be cut short or damaged.") from None


def _read_gpx(content: bytes) -> list[Activity]:
    try:
        document = gpxpy.parse(content.decode("utf-8-sig", errors="replace"))
    except (gpxpy.gpx.GPXException, ValueError, TypeError, AttributeError):
        raise Unreadable("This GPX file could not be read: a value in it is malformed.") from None
    tracks = [track for track in document.tracks if track.get_points_no()]
    if not tracks:
        raise Unreadable("This GPX holds no track points (a route or waypoints only?).")
    activities = []
    for index, track in enumerate(tracks):
        bounds = track.get_time_bounds()
        if bounds.start_time is None or bounds.end_time is None:
            raise Unreadable("This GPX has no time stamps, so when the run started and how long "
                             "it took are unknown; export it again with times.")
        start, end = _utc(bounds.start_time), _utc(bounds.end_time)
        activities.append(Activity(
            index=index, started_at=start, duration_s=round((end - start).total_seconds()),
            distance_m=round(track.length_2d()), sport=_sport(track.type),
            surface=_surface(track.type)))
    return activities


def _read_tcx(root: Element) -> list[Activity]:
    activities = []
    for index, node in enumerate(root.iter(f"{TCX_NS}Activity")):
        laps = node.findall(f"{TCX_NS}Lap")
        if not laps:
            raise Unreadable("This TCX activity has no laps, so its time and distance are unknown.")
        try:
            starts = [_instant(lap.attrib["StartTime"]) for lap in laps]
            seconds = [float(lap.findtext(f"{TCX_NS}TotalTimeSeconds") or 0) for lap in laps]
            metres = sum(float(lap.findtext(f"{TCX_NS}DistanceMeters") or 0) for lap in laps)
        except (KeyError, ValueError):
            raise Unreadable("This TCX file has a lap without a valid start time, duration or "
                             "distance.") from None
        ident = node.findtext(f"{TCX_NS}Id")
        started = _instant(ident) if ident and _looks_like_time(ident) else starts[0]
        ended = starts[-1] + timedelta(seconds=seconds[-1])
        sport = node.attrib.get("Sport")
        activities.append(Activity(
            index=index, started_at=started, duration_s=round((ended - started).total_seconds()),
            distance_m=round(metres), sport=_sport(sport), surface=None))
    if not activities:
        raise Unreadable("This TCX file holds no activities.")
    return activities


def _read_fit(content: bytes) -> list[Activity]:
    sessions, file_type = [], None
    try:
        with fitdecode.FitReader(io.BytesIO(content), check_crc=fitdecode.CrcCheck.RAISE,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                if frame.name == "file_id":
                    file_type = frame.get_value("type", fallback=None)
                elif frame.name == "session":
                    sessions.append(frame)
    except fitdecode.FitHeaderError:
        raise Unreadable("Not a FIT file: its header is missing or damaged.") from None
    except fitdecode.FitEOFError:
        raise Unreadable("This FIT file is cut short; copy it from the watch again.") from None
    except fitdecode.FitCRCError:
        raise Unreadable("This FIT file is damaged: its checksum does not match.") from None
    except (fitdecode.FitError, ValueError, KeyError, IndexError, struct.error):
        raise Unreadable("This FIT file is damaged and could not be read.") from None
    if file_type is not None and file_type != FIT_ACTIVITY:
        raise Unreadable(f"This FIT file is a {file_type}, not a recorded activity.")
    if not sessions:
        raise Unreadable("This FIT file holds no session summary, so its time and distance are "
                         "unknown.")
    activities = []
    for index, session in enumerate(sessions):
        start = session.get_value("start_time", fallback=None)
        elapsed = session.get_value("total_elapsed_time", fallback=None)
        if elapsed is None:
            elapsed = session.get_value("total_timer_time", fallback=None)
        distance = session.get_value("total_distance", fallback=None)
        if not isinstance(start, datetime) or elapsed is None:
            raise Unreadable("A session in this FIT file has no start time or duration.")
        sport = session.get_value("sport", fallback=None)
        sub_sport = session.get_value("sub_sport", fallback=None)
        activities.append(Activity(
            index=index, started_at=_utc(start), duration_s=round(float(elapsed)),
            distance_m=round(float(distance or 0)),
            sport=_sport(None if sport is None else str(sport)),
            surface=_surface(None if sub_sport is None else str(sub_sport))))
    return activities


def _plain(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _sport(raw: str | None) -> str | None:
    text = (raw or "").strip()
    return text[:40] or None


def _surface(raw: str | None) -> str | None:
    plain = _plain(raw or "")
    return next((surface for word, surface in SURFACES.items() if word in plain), None)


def _looks_like_time(text: str) -> bool:
    return bool(re.match(r"\d{4}-\d{2}-\d{2}T", text.strip()))


def _instant(text: str) -> datetime:
    return _utc(datetime.fromisoformat(text.strip()))


def _utc(moment: datetime) -> datetime:
    """Times without a zone are UTC, as GPX, TCX and FIT all specify."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
