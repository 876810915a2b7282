"""PDF storage on a real S3 API (moto over HTTP): one object per generation, written once."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from services.common.s3 import create_s3_client, ensure_bucket, presigned_get_url
from services.renderer.storage import PdfStore, storage_key
from tests.conftest import S3_TEST_CREDENTIALS, make_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def store_and_client(s3_endpoint: str) -> tuple[PdfStore, object, str]:
    settings = make_settings(S3_ENDPOINT_URL=s3_endpoint, **S3_TEST_CREDENTIALS)
    client = create_s3_client(settings)
    bucket = f"storage-test-{uuid.uuid4().hex[:8]}"
    ensure_bucket(client, bucket, settings.aws_region)
    ensure_bucket(client, bucket, settings.aws_region)  # a second start-up finds it there
    return PdfStore(client, bucket), client, bucket


def test_second_upload_to_a_key_keeps_the_first_pdf(
    store_and_client: tuple[PdfStore, object, str],
) -> None:
    store, _, _ = store_and_client
    key = storage_key("biz_1", "INV-TESTKEY001", 1)
    first = store.put_once(key, b"%PDF-1.7 first render")
    again = store.put_once(key, b"%PDF-1.7 a redelivered job's render")
    assert again == first
    assert first.checksum_sha256 == hashlib.sha256(b"%PDF-1.7 first render").hexdigest()
    assert store.get(key) == b"%PDF-1.7 first render"


def test_objects_are_private_and_served_by_presigned_link(
    store_and_client: tuple[PdfStore, object, str], s3_endpoint: str
) -> None:
    import httpx

    store, client, bucket = store_and_client
    key = storage_key("biz_1", "INV-TESTKEY002", 3)
    assert key == "invoices/biz_1/INV-TESTKEY002/g3.pdf"
    store.put_once(key, b"%PDF-1.7 private")
    signed = presigned_get_url(client, bucket, key, expires_in=60)
    reply = httpx.get(signed)
    assert reply.status_code == 200 and reply.content == b"%PDF-1.7 private"
    assert reply.headers["content-type"] == "application/pdf"
    assert httpx.get(f"{s3_endpoint}/{bucket}/{key}").status_code == 403
