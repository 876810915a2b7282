"""Stores rendered PDFs in S3, each generation's object written once."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class StoredPdf:
    """Where a PDF was stored and what it holds."""

    key: str
    checksum_sha256: str
    size_bytes: int


def storage_key(business_id: str, invoice_id: str, generation: int) -> str:
    """One key per business, invoice and render generation: a rerun lands on the same key."""
    return f"invoices/{business_id}/{invoice_id}/g{generation}.pdf"


class PdfStore:
    """Writes PDFs to the private bucket."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put_once(self, key: str, pdf: bytes) -> StoredPdf:
        """Store the PDF unless this key holds one already; either way return what is stored.

        A second delivery of the same job then never replaces the PDF that was reported.
        """
        digest = hashlib.sha256(pdf)
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=pdf,
                ContentType="application/pdf",
                ChecksumSHA256=base64.b64encode(digest.digest()).decode("ascii"),
                Metadata={"sha256": digest.hexdigest()},
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
                raise
            head = self._client.head_object(Bucket=self._bucket, Key=key)
            return StoredPdf(key, head["Metadata"].get("sha256", ""), int(head["ContentLength"]))
        return StoredPdf(key, digest.hexdigest(), len(pdf))

    def get(self, key: str) -> bytes:
        """The stored PDF's bytes."""
        body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        return bytes(body.read())
