"""Small, real activity files written by the tests themselves: GPX and TCX as XML, FIT as bytes.

The FIT writer is a minimal encoder of the FIT protocol (a 14-byte header, one definition and one
data message for `file_id` (global message 0) and for each `session` (18), and the CRC-16 the
protocol defines), enough for a watch's summary of a run; fitdecode reads it as it reads a
device's file.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
FIT_SPORTS = {"running": 1, "cycling": 2, "walking": 11}
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


def fit_crc(data: bytes, crc: int = 0) -> int:
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ _CRC_TABLE[nibble]
    return crc


def _fit_time(moment: datetime) -> int:
    return int((moment - FIT_EPOCH).total_seconds())


def fit(*sessions: Session, file_type: int = 4) -> bytes:
    """A FIT activity file (file_id type 4) with one session message per Session."""
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
            round(session.elapsed_s * 1000), round(session.elapsed_s * 1000),
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
                time = f"<time>{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}</time>"
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
        stamp = start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        parts.append(f'<Activity Sport="{sport}"><Id>{stamp}</Id>')
        lap_start = start
        for seconds, metres in laps:
            parts.append(
                f'<Lap StartTime="{lap_start.strftime("%Y-%m-%dT%H:%M:%SZ")}">'
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
