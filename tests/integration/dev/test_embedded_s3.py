"""The embedded S3 API (moto server): real HTTP, and its objects outlive a restart."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from services.dev.embedded_s3 import EmbeddedS3, compact_recording
from tests.integration.dev.helpers import wait_all_gone

pytestmark = pytest.mark.integration

BUCKET = "suoops-invoices"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64


def test_put_and_get_an_object_over_http(tmp_path: Path) -> None:
    s3 = EmbeddedS3(tmp_path)
    url = s3.start(bucket=BUCKET)
    try:
        client = s3.client()
        client.put_object(
            Bucket=BUCKET, Key="invoices/INV-1.pdf", Body=PDF, ContentType="application/pdf"
        )
        got = client.get_object(Bucket=BUCKET, Key="invoices/INV-1.pdf")
        link = client.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "invoices/INV-1.pdf"}, ExpiresIn=60
        )
        fetched = httpx.get(link)
    finally:
        s3.stop()
    assert url.startswith("http://127.0.0.1:")
    assert got["Body"].read() == PDF
    assert got["ContentType"] == "application/pdf"
    assert fetched.status_code == 200 and fetched.content == PDF


def test_objects_outlive_a_restart_and_deleted_ones_stay_deleted(tmp_path: Path) -> None:
    first = EmbeddedS3(tmp_path)
    first.start(bucket=BUCKET)
    try:
        client = first.client()
        client.put_object(Bucket=BUCKET, Key="kept.pdf", Body=PDF, ContentType="application/pdf")
        client.put_object(Bucket=BUCKET, Key="kept.pdf", Body=b"%PDF second render")
        client.put_object(Bucket=BUCKET, Key="gone.pdf", Body=b"x")
        client.delete_object(Bucket=BUCKET, Key="gone.pdf")
        client.get_object(Bucket=BUCKET, Key="kept.pdf")["Body"].read()
        old_pid = first.pid()
    finally:
        first.stop()
    assert old_pid is not None and wait_all_gone([old_pid]) == []

    second = EmbeddedS3(tmp_path)
    second.start(bucket=BUCKET)
    try:
        client = second.client()
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        body = client.get_object(Bucket=BUCKET, Key="kept.pdf")["Body"].read()
        buckets = [b["Name"] for b in client.list_buckets()["Buckets"]]
    finally:
        second.stop()
    assert keys == ["kept.pdf"]
    assert body == b"%PDF second render"
    assert buckets == [BUCKET]


def test_reads_are_left_out_of_what_the_next_start_replays(tmp_path: Path) -> None:
    for run in range(2):
        s3 = EmbeddedS3(tmp_path)
        s3.start(bucket=BUCKET)
        try:
            client = s3.client()
            client.put_object(Bucket=BUCKET, Key=f"run-{run}.pdf", Body=PDF)
            client.head_object(Bucket=BUCKET, Key=f"run-{run}.pdf")
            keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
        finally:
            s3.stop()
        assert keys == [f"run-{n}.pdf" for n in range(run + 1)]
    compact_recording(tmp_path / "s3" / "recording.jsonl")
    methods = [
        json.loads(line)["method"]
        for line in (tmp_path / "s3" / "recording.jsonl").read_text().splitlines()
    ]
    assert methods.count("PUT") == 3  # the bucket once, then one object per run
    assert "GET" not in methods and "HEAD" not in methods


def test_compaction_drops_reads_and_a_line_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "recording.jsonl"
    lines = [
        json.dumps({"method": "PUT", "url": "/b"}),
        json.dumps({"method": "GET", "url": "/b/k"}),
        json.dumps({"method": "DELETE", "url": "/b/k"}),
        '{"method": "PU',
    ]
    path.write_text("\n".join(lines) + "\n")
    assert compact_recording(path) is True
    assert [json.loads(line)["method"] for line in path.read_text().splitlines()] == [
        "PUT",
        "DELETE",
    ]
    assert compact_recording(tmp_path / "missing.jsonl") is False
