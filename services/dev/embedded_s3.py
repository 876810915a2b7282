"""An S3 API from moto in server mode, made to outlive restarts by moto's request recorder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from services.dev.ports import LOOPBACK, free_port
from services.dev.processes import OwnedServer, start_in_own_group

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
# moto accepts any credentials; the stack's boto3 clients still need some to sign with.
ACCESS_KEY_ID = "suoops-dev"
SECRET_ACCESS_KEY = "suoops-dev-secret"
# Requests that change nothing are left out of the recording when it is compacted.
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class S3StartError(RuntimeError):
    """The embedded moto server did not come up."""


class EmbeddedS3(OwnedServer):
    """A moto server on a loopback port; its state is rebuilt from `<data_dir>/s3` on start.

    moto keeps everything in memory and has no snapshot feature. Its recorder appends every
    request it serves to a file and can replay that file, so we record the mutating requests
    and replay them when the server starts again.
    """

    stop_timeout_seconds = STOP_TIMEOUT_SECONDS

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.dir = (data_dir / "s3").resolve()
        self.recording = self.dir / "recording.jsonl"
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """http://127.0.0.1:port."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, bucket: str | None = None, region: str = "us-east-1") -> str:
        """Start moto, replay what earlier runs stored, create `bucket` if missing; return URL."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_port()
        env = dict(os.environ)
        env["MOTO_RECORDER_FILEPATH"] = str(self.recording)
        env.pop("MOTO_ENABLE_RECORDING", None)  # recording starts after the replay, not before
        argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(self.port)]
        with open(self.dir / "moto.log", "wb") as log:
            self._process = start_in_own_group(argv, env=env, stdout=log, cwd=str(self.dir))
        self._wait_until_up()
        if compact_recording(self.recording):
            self._post("/moto-api/recorder/replay-recording")
        self._post("/moto-api/recorder/start-recording")
        if bucket:
            self.ensure_bucket(bucket, region)
        return self.url

    def ensure_bucket(self, bucket: str, region: str) -> None:
        """Create the bucket unless it exists (the creation is recorded like any request)."""
        client = self.client(region)
        try:
            client.head_bucket(Bucket=bucket)
        except client.exceptions.ClientError:
            options = {}
            if region != "us-east-1":
                options["CreateBucketConfiguration"] = {"LocationConstraint": region}
            client.create_bucket(Bucket=bucket, **options)

    def client(self, region: str = "us-east-1") -> Any:
        """A boto3 S3 client for this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self._process is None or self._process.poll() is not None:
                raise S3StartError(f"moto server exited; see {self.dir / 'moto.log'}")
            if self._answers():
                return
            if time.monotonic() > deadline:
                raise S3StartError(f"moto server did not answer within {START_TIMEOUT_SECONDS}s")
            time.sleep(0.1)

    def _answers(self) -> bool:
        # The recorder's own paths are never recorded; an unknown one answers at once.
        try:
            urllib.request.urlopen(f"{self.url}/moto-api/recorder/ping", timeout=1).close()
        except urllib.error.HTTPError:
            return True  # any HTTP answer means it is serving
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        return True

    def _post(self, path: str) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=b"", method="POST")
        urllib.request.urlopen(request, timeout=300).close()


def compact_recording(path: Path) -> bool:
    """Drop the read-only requests from a recording; True when any request is left to replay."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return False
    kept = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short when the server was killed mid-write
        if isinstance(entry, dict) and entry.get("method") not in _READ_ONLY_METHODS:
            kept.append(line)
    if len(kept) != len(lines):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        os.replace(tmp, path)
    return bool(kept)
