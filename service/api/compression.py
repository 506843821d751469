"""Compressed answers (flask-compress): zstd, Brotli or gzip, as the client's Accept-Encoding asks.

Phones sync on mobile data: a 500-item sync page or a year's export shrinks several times over
(bench/RESULTS.md, "Bytes on the wire"). Problem documents are compressed too, though
flask-compress leaves every answer outside 2xx alone: a 422 that names each bad field of a
500-item batch is no smaller than the batch.

A compressed answer's strong ETag gains the coding (`"v3"` becomes `"v3:br"`), as RFC 9110 asks
of a different representation. A client sends back the tag it was given, so `If-Match` and
`If-None-Match` compare tags without that suffix (`service.api.conditional`).
"""

from __future__ import annotations

import flask_compress
from flask import Flask, Response

from service.api import problems

ALGORITHMS = ["zstd", "br", "gzip"]  # the server's preference when the client has none
MIMETYPES = ["application/json", problems.MEDIA_TYPE, "text/csv", "text/plain", "text/html",
             "text/css", "text/javascript", "application/javascript"]
CODINGS = tuple(f":{algorithm}" for algorithm in (*ALGORITHMS, "deflate"))


class Compress(flask_compress.Compress):
    def after_request(self, response: Response | None) -> Response:
        if response is None or response.mimetype != problems.MEDIA_TYPE \
                or response.status_code < 400:
            return super().after_request(response)
        # flask-compress only looks at 2xx; a problem document has no ETag to make conditional.
        status = response.status_code
        response.status_code = 200
        try:
            return super().after_request(response)
        finally:
            response.status_code = status


def init_app(app: Flask) -> None:
    app.config.update(
        COMPRESS_ALGORITHM=ALGORITHMS,
        COMPRESS_ALGORITHM_STREAMING=ALGORITHMS,  # the streamed export, chunk by chunk
        COMPRESS_MIMETYPES=MIMETYPES,
        COMPRESS_MIN_SIZE=500,  # below a packet's worth, compressing costs more than it saves
        COMPRESS_BR_LEVEL=4,  # Brotli's fast levels: on the fly, 11 costs far more CPU than 4
        COMPRESS_ZSTD_LEVEL=3,
        COMPRESS_LEVEL=6,
    )
    Compress(app)


def without_coding(tag: str) -> str:
    """The entity tag as the resource knows it, without the coding compression appended."""
    for coding in CODINGS:
        if tag.endswith(coding):
            return tag[: -len(coding)]
    return tag
