"""Small, real activity files written by the tests themselves: GPX and TCX as XML, FIT as bytes.

The FIT writer is a minimal encoder of the FIT protocol (a 14-byte header, one definition and one
data message for `file_id` (global message 0) and for each `session` (18), and the CRC-16 the
protocol defines), enough for a watch's summary of a run; fitdecode reads it as it reads a
device's file. Chained FIT files are such files one after the other (`fit_chain`).

An `Outing` is one run as a watch records it (a point every few seconds while moving, none while
paused), and renders as the files the apps export of it: GPX (`gpx_of`, one segment per stretch
between pauses, tracks split as GPSBabel does, Garmin's or Strava's extensions), TCX (`tcx_of`:
laps by distance, trackpoints with DistanceMeters, Garmin Connect's minute-cut `<Id>`, without
positions as a treadmill writes it) and FIT (`Outing.session`). Distances follow gpxpy's own
flat-earth metres per degree, so the three agree as a device's exports do.
"""

from __future__ import annotations

import io
import math
import random
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
FIT_SPORTS = {"generic": 0, "running": 1, "cycling": 2, "swimming": 5, "walking": 11}
FIT_FILE_TYPES = {"device": 1, "settings": 2, "sport": 3, "activity": 4, "workout": 5,
                  "course": 6, "monitoring_a": 15, "monitoring_b": 32}
FIT_SUB_SPORTS = {"generic": 0, "treadmill": 1, "street": 2, "trail": 3, "track": 4}
_CRC_TABLE = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
              0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)
METRES_PER_DEGREE_LAT = 111_120  # gpxpy's flat-earth step for short distances (10,000.8 km / 90)


@dataclass(frozen=True)
class Session:
    """A watch's summary of one activity."""

    start: datetime
    elapsed_s: float
    distance_m: float
    sport: str = "running"
    sub_sport: str = "generic"
    timer_s: float | None = None  # the timer time, pauses left out; the elapsed time if None


def fit_crc(data: bytes, crc: int = 0) -> int:
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ _CRC_TABLE[nibble]
    return crc


def _fit_time(moment: datetime) -> int:
    return int((moment - FIT_EPOCH).total_seconds())


def fit(*sessions: Session, file_type: int | str = 4) -> bytes:
    """A FIT activity file (file_id type 4) with one session message per Session; another
    `file_type` (a number or its profile name: "settings", "monitoring_b") for other files."""
    file_type = FIT_FILE_TYPES.get(file_type, file_type) if isinstance(file_type, str) \
        else file_type
    records = io.BytesIO()
    # file_id: type (enum), manufacturer (uint16), serial_number (uint32z), time_created (uint32)
    records.write(struct.pack("<BBBHB", 0x40, 0, 0, 0, 4))
    records.write(bytes([0, 1, 0x00, 1, 2, 0x84, 3, 4, 0x8C, 4, 4, 0x86]))
    first = sessions[0].start if sessions else datetime(2024, 1, 1, tzinfo=UTC)
    records.write(struct.pack("<BBHII", 0x00, file_type, 1, 12345, _fit_time(first)))
    # session: timestamp, start_time, total_elapsed_time (ms), total_timer_time (ms),
    # total_distance (cm), sport, sub_sport
    records.write(struct.pack("<BBBHB", 0x41, 0, 0, 18, 7))
    records.write(bytes([253, 4, 0x86, 2, 4, 0x86, 7, 4, 0x86, 8, 4, 0x86, 9, 4, 0x86,
                         5, 1, 0x00, 6, 1, 0x00]))
    for session in sessions:
        end = session.start + timedelta(seconds=session.elapsed_s)
        records.write(struct.pack(
            "<BIIIIIBB", 0x01, _fit_time(end), _fit_time(session.start),
            round(session.elapsed_s * 1000),
            round((session.elapsed_s if session.timer_s is None else session.timer_s) * 1000),
            round(session.distance_m * 100), FIT_SPORTS[session.sport],
            FIT_SUB_SPORTS[session.sub_sport]))
    body = records.getvalue()
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    return header + body + struct.pack("<H", fit_crc(header + body))


def gpx(start: datetime | None, points: int = 11, step_deg: float = 0.01, step_s: int = 360,
        sport: str | None = "running", tracks: int = 1) -> bytes:
    """A GPX of `tracks` tracks heading north along 0°E, one point every `step_s` seconds.

    Each step is `step_deg` of latitude (0.01° is 1,111.2 m as gpxpy measures it); without a
    start time the points carry no <time> at all, as a planned route would.
    """
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<gpx version="1.1" creator="tests" xmlns="http://www.topografix.com/GPX/1/1">']
    for track in range(tracks):
        parts.append("<trk><name>Morning run</name>")
        if sport is not None:
            parts.append(f"<type>{sport}</type>")
        parts.append("<trkseg>")
        for index in range(points):
            lat = 51.0 + track + index * step_deg
            time = ""
            if start is not None:
                moment = start + timedelta(days=track, seconds=index * step_s)
                time = f"<time>{stamp(moment)}</time>"
            parts.append(f'<trkpt lat="{lat:.6f}" lon="0.000000"><ele>10</ele>{time}</trkpt>')
        parts.append("</trkseg></trk>")
    parts.append("</gpx>")
    return "\n".join(parts).encode()


def tcx(*activities: tuple[str, datetime, list[tuple[float, float]]]) -> bytes:
    """A TCX with activities of (Sport, start, laps of (seconds, metres))."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<TrainingCenterDatabase xmlns='
             '"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>']
    for sport, start, laps in activities:
        parts.append(f'<Activity Sport="{sport}"><Id>{stamp(start)}</Id>')
        lap_start = start
        for seconds, metres in laps:
            parts.append(
                f'<Lap StartTime="{stamp(lap_start)}">'
                f"<TotalTimeSeconds>{seconds}</TotalTimeSeconds>"
                f"<DistanceMeters>{metres}</DistanceMeters><Calories>100</Calories>"
                "<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod></Lap>")
            lap_start += timedelta(seconds=seconds)
        parts.append("<Creator><Name>Forerunner</Name></Creator></Activity>")
    parts.append("</Activities></TrainingCenterDatabase>")
    return "".join(parts).encode()


def zipped(files: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def stamp(moment: datetime) -> str:
    """An RFC 3339 UTC time, the year in four digits (strftime drops the zeros of year 1)."""
    moment = moment.astimezone(UTC) if moment.year > 1 else moment
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def fit_chain(*files: bytes) -> bytes:
    """FIT files one after the other, as a watch chains an activity with other records."""
    return b"".join(files)


# gpxpy's metres per degree for nearby points (2 pi times WGS84's semi-major axis, over 360).
ONE_DEGREE_M = 2 * math.pi * 6_378_137 / 360


@dataclass(frozen=True)
class Point:
    at: datetime
    lat: float
    lon: float
    distance_m: float  # from the start, as a watch counts it
    moving_s: float  # timer time so far


@dataclass(frozen=True)
class Outing:
    """One run as a watch records it, heading north from (`lat`, 0): a point every `step_s`
    seconds while moving, none while paused. `pauses` are (after this many moving seconds, for
    this many seconds), each a multiple of `step_s`."""

    start: datetime
    km: float
    pace_s_per_km: float
    step_s: int = 5
    pauses: tuple[tuple[float, float], ...] = ()
    lap_m: float = 1000
    lat: float = 51.0

    @property
    def moving_s(self) -> float:
        return self.km * self.pace_s_per_km

    @property
    def elapsed_s(self) -> float:
        return self.moving_s + sum(seconds for _, seconds in self.pauses)

    @property
    def distance_m(self) -> float:
        return self.km * 1000

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_s)

    def segments(self) -> list[list[Point]]:
        """The points, one list per stretch between pauses."""
        cuts = sorted(self.pauses)
        ends = [at for at, _ in cuts] + [self.moving_s]
        segments, paused, begin = [], 0.0, 0.0
        for number, end in enumerate(ends):
            moments, t = [], begin
            while t < end - 1e-9:
                moments.append(t)
                t += self.step_s
            moments.append(end)
            segments.append([self._point(t, paused) for t in moments])
            if number < len(cuts):
                paused += cuts[number][1]
            begin = end
        return segments

    def points(self) -> list[Point]:
        return [point for segment in self.segments() for point in segment]

    def _point(self, moving: float, paused: float) -> Point:
        metres = moving * 1000 / self.pace_s_per_km
        return Point(self.start + timedelta(seconds=moving + paused),
                     self.lat + metres / ONE_DEGREE_M, 0.0, metres, moving)

    def session(self, sport: str = "running", sub_sport: str = "generic") -> Session:
        """The FIT session a watch writes of it: elapsed, timer time and distance."""
        return Session(self.start, self.elapsed_s, self.distance_m, sport=sport,
                       sub_sport=sub_sport, timer_s=self.moving_s)

    def fit(self, **options: str) -> bytes:
        return fit(self.session(**options))


@dataclass(frozen=True)
class Track:
    """A GPX <trk>: its segments of points, a <type> when not None, times unless `timed` is
    False (a planned route)."""

    segments: Sequence[Sequence[Point]]
    sport: str | None = "running"
    timed: bool = True
    name: str = "Morning run"


def track_of(outing: Outing, sport: str | None = "running", *, one_segment: bool = False,
             timed: bool = True) -> Track:
    segments = outing.segments()
    if one_segment:  # Strava writes pauses as a gap in time inside one segment
        segments = [[point for segment in segments for point in segment]]
    return Track(segments, sport, timed)


def split_track(track: Track, sizes: Sequence[int]) -> list[Track]:
    """The track's points cut into tracks of these many points (the rest in a last one), as
    GPSBabel writes a new track at every gap or restart of one outing."""
    points = [point for segment in track.segments for point in segment]
    tracks, at = [], 0
    for size in [*sizes, len(points)]:
        if at >= len(points):
            break
        tracks.append(Track([points[at:at + size]], track.sport, track.timed, track.name))
        at += size
    return tracks


GPX_NAMESPACES = {
    "garmin": 'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"',
    "strava": 'xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0"',
}


def gpx_of(*tracks: Track, extensions: str | None = None, declare: bool = True,
           creator: str = "tests") -> bytes:
    """A GPX 1.1 document of these tracks. `extensions`: "garmin" (gpxtpx:TrackPointExtension)
    or "strava" (gpxdata:hr and gpxdata:cadence) on every point, the prefix declared on the root
    unless `declare` is False, as Strava's exports leave `gpxdata:`."""
    declared = GPX_NAMESPACES[extensions] if extensions and declare else ""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<gpx version="1.1" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/1" '
             f'{declared}>']
    beats = random.Random(7)
    for track in tracks:
        parts.append(f"<trk><name>{track.name}</name>")
        if track.sport is not None:
            parts.append(f"<type>{track.sport}</type>")
        for segment in track.segments:
            parts.append("<trkseg>")
            for point in segment:
                time = f"<time>{stamp(point.at)}</time>" if track.timed else ""
                extra = _gpx_extension(extensions, beats.randint(128, 162))
                parts.append(f'<trkpt lat="{point.lat:.7f}" lon="{point.lon:.7f}"><ele>12.0</ele>'
                             f"{time}{extra}</trkpt>")
            parts.append("</trkseg>")
        parts.append("</trk>")
    parts.append("</gpx>")
    return "\n".join(parts).encode()


def _gpx_extension(kind: str | None, heart_rate: int) -> str:
    if kind == "garmin":
        return (f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{heart_rate}</gpxtpx:hr>"
                "<gpxtpx:cad>86</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions>")
    if kind == "strava":
        return (f"<extensions><gpxdata:hr>{heart_rate}</gpxdata:hr>"
                "<gpxdata:cadence>86</gpxdata:cadence></extensions>")
    return ""


@dataclass(frozen=True)
class TcxActivity:
    """How one outing is written in a TCX: its Sport, `<Id>` cut to the minute as Garmin Connect
    writes it, positions unless `positions` is False (a treadmill), DistanceMeters on every
    trackpoint unless `point_distances` is False, and laps as the device summed them unless
    `lap_metres` says otherwise (a Suunto's last lap that says 1,002 m)."""

    outing: Outing
    sport: str = "Running"
    id_to_minute: bool = True
    positions: bool = True
    point_distances: bool = True
    lap_metres: Sequence[float] | None = None
    extras: bool = False  # altitude, heart rate, cadence and speed on every point, as Polar's
    lap_ends_m: Sequence[float] | None = None  # where each lap ends; every outing.lap_m if None
    # Trackpoints' DistanceMeters counted on from an earlier activity (a Forerunner 310XT's).
    odometer_m: float = 0.0
    # No trackpoints after this many moving seconds, the laps unchanged (a file trimmed).
    points_until_s: float | None = None


def tcx_of(*activities: TcxActivity | Outing, before: str = "", indent: bool = False) -> bytes:
    """A TCX of these activities, laps of each outing's `lap_m` with a <Track> per stretch
    between pauses. `before`: text ahead of `<?xml` (a Polar V800 writes blanks there);
    `indent`: one element a line, indented, as Polar and Suunto write them."""
    nl = "\n" if indent else ""
    parts = [before + '<?xml version="1.0" encoding="UTF-8"?>',
             '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/'
             'TrainingCenterDatabase/v2" xmlns:ns3="http://www.garmin.com/xmlschemas/'
             'ActivityExtension/v2">', "<Activities>"]
    for activity in activities:
        if isinstance(activity, Outing):
            activity = TcxActivity(activity)
        parts.extend(_tcx_activity(activity, indent))
    parts += ["</Activities>", "</TrainingCenterDatabase>"]
    return nl.join(parts).encode()


def _tcx_activity(activity: TcxActivity, indent: bool) -> list[str]:
    outing = activity.outing
    ident = outing.start.replace(second=0, microsecond=0) if activity.id_to_minute \
        else outing.start
    pad = "  " if indent else ""
    parts = [f'{pad}<Activity Sport="{activity.sport}">', f"{pad * 2}<Id>{stamp(ident)}</Id>"]
    lap_s = outing.lap_m * outing.pace_s_per_km / 1000
    ends = ([metres * outing.pace_s_per_km / 1000 for metres in activity.lap_ends_m]
            if activity.lap_ends_m is not None else
            [min((lap + 1) * lap_s, outing.moving_s)
             for lap in range(max(1, math.ceil(outing.moving_s / lap_s - 1e-9)))])
    laps = len(ends)
    segments = outing.segments()
    beats = random.Random(11)
    for lap in range(laps):
        begin, end = (ends[lap - 1] if lap else 0.0), ends[lap]
        last = lap == laps - 1
        until = activity.points_until_s
        tracks = [[point for point in segment
                   if (begin <= point.moving_s < end or (last and point.moving_s == end))
                   and (until is None or point.moving_s <= until)]
                  for segment in segments]
        tracks = [track for track in tracks if track]
        started = (tracks[0][0].at if tracks else
                   outing.start + timedelta(seconds=begin)) if lap else outing.start
        metres = (activity.lap_metres[lap] if activity.lap_metres is not None
                  else (end - begin) * 1000 / outing.pace_s_per_km)
        parts += [f'{pad * 2}<Lap StartTime="{stamp(started)}">',
                  f"{pad * 3}<TotalTimeSeconds>{end - begin:.1f}</TotalTimeSeconds>",
                  f"{pad * 3}<DistanceMeters>{metres:.1f}</DistanceMeters>",
                  f"{pad * 3}<Calories>{round(metres / 15)}</Calories>",
                  f"{pad * 3}<Intensity>Active</Intensity>",
                  f"{pad * 3}<TriggerMethod>Distance</TriggerMethod>"]
        for track in tracks:
            parts.append(f"{pad * 3}<Track>")
            for point in track:
                parts.extend(_trackpoint(activity, point, beats, pad * 4, indent))
            parts.append(f"{pad * 3}</Track>")
        parts.append(f"{pad * 2}</Lap>")
    parts += [f"{pad * 2}<Creator><Name>Forerunner</Name></Creator>", f"{pad}</Activity>"]
    return parts


def _trackpoint(activity: TcxActivity, point: Point, beats: random.Random, pad: str,
                indent: bool) -> list[str]:
    inner = pad + ("  " if indent else "")
    parts = [f"{pad}<Trackpoint>", f"{inner}<Time>{stamp(point.at)}</Time>"]
    if activity.positions:
        parts.append(f"{inner}<Position><LatitudeDegrees>{point.lat:.7f}</LatitudeDegrees>"
                     f"<LongitudeDegrees>{point.lon:.7f}</LongitudeDegrees></Position>")
    if activity.extras:
        parts.append(f"{inner}<AltitudeMeters>{40 + beats.random() * 8:.1f}</AltitudeMeters>")
    if activity.point_distances:
        metres = point.distance_m + activity.odometer_m
        parts.append(f"{inner}<DistanceMeters>{metres:.1f}</DistanceMeters>")
    if activity.extras:
        parts += [f"{inner}<HeartRateBpm><Value>{beats.randint(128, 162)}</Value></HeartRateBpm>",
                  f"{inner}<Extensions><ns3:TPX><ns3:Speed>{beats.uniform(2.8, 3.3):.3f}"
                  f"</ns3:Speed><ns3:RunCadence>{beats.randint(82, 90)}</ns3:RunCadence>"
                  "</ns3:TPX></Extensions>"]
    parts.append(f"{pad}</Trackpoint>")
    return parts


def zipped_deflated(files: dict[str, bytes]) -> bytes:
    return zipped(files, compression=zipfile.ZIP_DEFLATED)

