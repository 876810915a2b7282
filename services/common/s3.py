"""S3 access shared by the renderer (uploads) and the invoice service (presigned links)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from services.common.settings import Settings


def create_s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint (AWS itself when none is set)."""
    config = Config(
        signature_version="s3v4",
        retries={"total_max_attempts": settings.s3_max_attempts, "mode": "standard"},
        # Path-style keeps one host for every bucket, as S3-compatible servers expect.
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key,
        config=config,
    )


def ensure_bucket(client: Any, bucket: str, region: str) -> None:
    """Create the bucket when it is missing; it stays private (no public ACL or policy)."""
    try:
        client.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


def presigned_get_url(client: Any, bucket: str, key: str, expires_in: int) -> str:
    """A link that serves the object to anyone holding it until it expires."""
    return str(
        client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentType": "application/pdf",
            },
            ExpiresIn=expires_in,
        )
    )
