"""An athlete's data in and out: imports of activity files, and the full export.

`activity_files` reads GPX, TCX and FIT (alone, gzipped or zipped) into plain activities, bytes
in and activities out; `imports` turns an upload into run check-ins file by file; `export` writes
everything held about an athlete.
"""
