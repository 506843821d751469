"""A phone on mobile data gets every sizeable answer compressed, in the coding it asked for."""

from __future__ import annotations

import gzip
import json
import uuid

import brotli
import pytest
from backports import zstd

from tests.support.full_life import live
from tests.support.runners import run, sign_up

DECODE = {"zstd": zstd.decompress, "br": brotli.decompress, "gzip": gzip.decompress}


@pytest.mark.parametrize("coding", sorted(DECODE))
def test_the_spec_comes_in_the_coding_asked_for(client, coding):
    plain = client.get("/openapi.json")
    packed = client.get("/openapi.json", headers={"Accept-Encoding": coding})
    assert packed.headers["Content-Encoding"] == coding
    assert "Accept-Encoding" in packed.headers["Vary"]
    body = DECODE[coding](packed.get_data())
    assert json.loads(body) == plain.get_json()
    assert len(packed.get_data()) * 4 < len(plain.get_data()), "the spec compresses well"


def test_the_server_prefers_zstd_then_brotli_when_the_client_takes_anything(client):
    either = client.get("/openapi.json", headers={"Accept-Encoding": "gzip, br"})
    assert either.headers["Content-Encoding"] == "br"
    every = client.get("/openapi.json", headers={"Accept-Encoding": "gzip, br, zstd"})
    assert every.headers["Content-Encoding"] == "zstd"


def test_without_accept_encoding_nothing_is_compressed(client):
    assert "Content-Encoding" not in client.get("/openapi.json").headers


def test_a_large_problem_document_is_compressed_too(client):
    runner = sign_up(client)
    unknown = {f"favourite_trail_{n}": "by the river" for n in range(40)}
    refused = runner.patch("/v1/me", json=unknown, headers={"Accept-Encoding": "br"})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.headers["Content-Encoding"] == "br"
    problem = json.loads(brotli.decompress(refused.get_data()))
    assert problem["status"] == 422 and problem["errors"]


def test_the_streamed_export_is_compressed_chunk_by_chunk(app, client):
    sam = live(app, client).sam
    plain = json.loads(sam.get("/v1/me/export").get_data())
    packed = sam.get("/v1/me/export", headers={"Accept-Encoding": "gzip"})
    assert packed.is_streamed and packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in packed.headers
    exported = json.loads(gzip.decompress(packed.get_data()))
    assert exported["sections"] == plain["sections"]


def test_etags_of_compressed_answers_still_work_for_reads_and_writes(client):
    runner = sign_up(client)
    checkin_id = uuid.uuid4()
    body = {**run(), "notes": "Easy loop by the river; back felt fine. " * 40}
    assert runner.put(f"/v1/checkins/{checkin_id}", json=body).status_code == 201

    read = runner.get(f"/v1/checkins/{checkin_id}", headers={"Accept-Encoding": "br"})
    assert read.headers["Content-Encoding"] == "br"
    tag = read.headers["ETag"]
    unchanged = runner.get(f"/v1/checkins/{checkin_id}",
                           headers={"Accept-Encoding": "br", "If-None-Match": tag})
    assert unchanged.status_code == 304

    updated = runner.put(f"/v1/checkins/{checkin_id}", json={**body, "effort": 4},
                         headers={"If-Match": tag})
    assert updated.status_code == 200, updated.get_json()
    stale = runner.put(f"/v1/checkins/{checkin_id}", json={**body, "effort": 5},
                       headers={"If-Match": tag})
    assert stale.status_code == 412
