"""The one settings object of a SuoOps process, read once from the environment."""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = ".suoops"
ENV_FILE_NAME = "env"
# The variables `suoops dev` writes to .suoops/env for other commands run from the same folder.
DEV_ENV_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "S3_ENDPOINT_URL",
    "S3_BUCKET",
    "INTERNAL_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)


class SettingsError(ValueError):
    """A setting is missing or malformed."""


def _env(name: str, *, secret: bool = False, default: Any = None) -> Any:
    return field(default=default, metadata={"env": name, "secret": secret}, repr=not secret)


@dataclass(frozen=True)
class Settings:
    """Every setting any SuoOps process reads; each process uses the part it needs."""

    database_url: str | None = _env("DATABASE_URL", secret=True)
    db_pool_size: int = _env("DB_POOL_SIZE", default=16)
    # How long a new invoice waits for others to share its INSERT statement (group commit).
    create_batch_linger_ms: float = _env("CREATE_BATCH_LINGER_MS", default=2.0)
    redis_url: str | None = _env("REDIS_URL", secret=True)
    redis_ssl_cert_reqs: str | None = _env("REDIS_SSL_CERT_REQS")
    redis_ssl_ca_certs: str | None = _env("REDIS_SSL_CA_CERTS")
    s3_bucket: str = _env("S3_BUCKET", default="suoops-invoices")
    s3_endpoint_url: str | None = _env("S3_ENDPOINT_URL")
    aws_region: str = _env("AWS_REGION", default="us-east-1")
    # Attempts per S3 call inside boto3, before the job's own retries take over.
    s3_max_attempts: int = _env("S3_MAX_ATTEMPTS", default=3)
    aws_access_key_id: str | None = _env("AWS_ACCESS_KEY_ID", secret=True)
    aws_secret_access_key: str | None = _env("AWS_SECRET_ACCESS_KEY", secret=True)
    invoice_grpc_addr: str = _env("INVOICE_GRPC_ADDR", default="127.0.0.1:50051")
    renderer_grpc_addr: str = _env("RENDERER_GRPC_ADDR", default="127.0.0.1:50052")
    gateway_host: str = _env("GATEWAY_HOST", default="127.0.0.1")
    gateway_port: int = _env("GATEWAY_PORT", default=8080)
    gateway_grpc_timeout_seconds: float = _env("GATEWAY_GRPC_TIMEOUT_SECONDS", default=10.0)
    internal_token: str | None = _env("INTERNAL_TOKEN", secret=True)
    smtp_url: str | None = _env("SMTP_URL", secret=True)
    smtp_from: str | None = _env("SMTP_FROM")
    whatsapp_api_url: str | None = _env("WHATSAPP_API_URL")
    whatsapp_phone_number_id: str | None = _env("WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_token: str | None = _env("WHATSAPP_TOKEN", secret=True)
    webhook_allow_private: bool = _env("WEBHOOK_ALLOW_PRIVATE", default=False)
    # Email and WhatsApp retries: exponential backoff with jitter between these bounds.
    delivery_max_retries: int = _env("DELIVERY_MAX_RETRIES", default=3)
    delivery_min_backoff_ms: int = _env("DELIVERY_MIN_BACKOFF_MS", default=30_000)
    delivery_max_backoff_ms: int = _env("DELIVERY_MAX_BACKOFF_MS", default=600_000)
    # A delivery claimed this long ago by a job that never reported is taken over.
    delivery_claim_lease_seconds: int = _env("DELIVERY_CLAIM_LEASE_SECONDS", default=600)
    # A pending delivery or webhook event untouched this long with no job waiting (its message
    # was lost) is queued again by the scheduler's sweeper; once attempted, it is also given
    # the longest retry delay (max backoff, or a server's Retry-After up to 1 h) on top.
    delivery_stuck_after_seconds: int = _env("DELIVERY_STUCK_AFTER_SECONDS", default=900)
    # Webhook retries: 30 s doubling to 1 h, until the window below (a day) closes.
    webhook_max_retries: int = _env("WEBHOOK_MAX_RETRIES", default=40)
    webhook_min_backoff_ms: int = _env("WEBHOOK_MIN_BACKOFF_MS", default=30_000)
    webhook_max_backoff_ms: int = _env("WEBHOOK_MAX_BACKOFF_MS", default=3_600_000)
    # An event still failing this long after it was made is given up, whatever the count.
    webhook_retry_window_hours: float = _env("WEBHOOK_RETRY_WINDOW_HOURS", default=24.0)
    otel_exporter_otlp_endpoint: str | None = _env("OTEL_EXPORTER_OTLP_ENDPOINT")
    # Finished spans as JSON lines appended to this file (the tests' exporter); unset: none.
    otel_spans_file: str | None = _env("OTEL_SPANS_FILE")
    invoice_metrics_port: int = _env("INVOICE_METRICS_PORT", default=9101)
    renderer_metrics_port: int = _env("RENDERER_METRICS_PORT", default=9102)
    worker_metrics_port: int = _env("WORKER_METRICS_PORT", default=9103)
    scheduler_metrics_port: int = _env("SCHEDULER_METRICS_PORT", default=9104)
    pdf_url_expiry_seconds: int = _env("PDF_URL_EXPIRY_SECONDS", default=3600)
    render_max_retries: int = _env("RENDER_MAX_RETRIES", default=3)
    render_min_backoff_ms: int = _env("RENDER_MIN_BACKOFF_MS", default=30_000)
    render_max_backoff_ms: int = _env("RENDER_MAX_BACKOFF_MS", default=600_000)
    render_soft_limit_seconds: float = _env("RENDER_SOFT_LIMIT_SECONDS", default=240.0)
    render_hard_limit_seconds: float = _env("RENDER_HARD_LIMIT_SECONDS", default=300.0)
    worker_max_tasks_per_child: int = _env("WORKER_MAX_TASKS_PER_CHILD", default=100)
    # Render processes per worker (and per renderer service); each renders one PDF at a time.
    render_processes: int = _env("RENDER_PROCESSES", default=2)
    worker_threads: int = _env("WORKER_THREADS", default=4)
    # How much lower the worker's render processes run (Unix nice): queued renders, which no
    # caller waits on, give way to the API and to synchronous renders.
    render_nice: int = _env("RENDER_NICE", default=10)
    # How long an idle worker waits before asking Redis again. An enqueue wakes it at once
    # (services/common/queue_wakeup.py); this bounds the wait when a wake-up is lost.
    worker_poll_ms: int = _env("WORKER_POLL_MS", default=50)
    # The renderer implementation, "module:factory" (tests swap in a deliberately slow one).
    renderer_factory: str = _env(
        "RENDERER_FACTORY", default="services.renderer.pdf:InvoicePdfRenderer"
    )
    # A worker that stops sending heartbeats this long has its unfinished messages requeued.
    worker_heartbeat_timeout_ms: int = _env("WORKER_HEARTBEAT_TIMEOUT_MS", default=60_000)
    # Fetches per million that also requeue the messages of workers whose heartbeat stopped.
    worker_maintenance_per_million: int = _env("WORKER_MAINTENANCE_PER_MILLION", default=1000)
    render_backlog_cap: int = _env("RENDER_BACKLOG_CAP", default=50_000)
    sync_render_timeout_seconds: float = _env("SYNC_RENDER_TIMEOUT_SECONDS", default=5.0)
    # A render still pending or rendering this long is queued again by the scheduler's sweeper.
    render_stuck_after_seconds: int = _env("RENDER_STUCK_AFTER_SECONDS", default=900)
    # How often the scheduler runs that sweep.
    sweep_interval_seconds: int = _env("SWEEP_INTERVAL_SECONDS", default=60)
    # Idempotency keys are kept at least this long (CONTRACT §2: at least 24 hours).
    idempotency_key_ttl_hours: int = _env("IDEMPOTENCY_KEY_TTL_HOURS", default=48)
    # When the monthly tax reports (of the month before) are built: this day (1 to 28), hour UTC.
    tax_report_day: int = _env("TAX_REPORT_DAY", default=1)
    tax_report_hour: int = _env("TAX_REPORT_HOUR", default=2)
    log_level: str = _env("LOG_LEVEL", default="INFO")
    data_dir: str = _env("SUOOPS_DATA_DIR", default=DEFAULT_DATA_DIR)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, env_file: Path | None = None
    ) -> Settings:
        """Build settings from the environment, falling back to `suoops dev`'s env file."""
        env = dict(os.environ if environ is None else environ)
        data_dir = env.get("SUOOPS_DATA_DIR") or DEFAULT_DATA_DIR
        path = env_file if env_file is not None else Path(data_dir) / ENV_FILE_NAME
        for key, value in read_env_file(path).items():
            if key in DEV_ENV_KEYS and not env.get(key):
                env[key] = value
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.metadata["env"], raw, hints[f.name])
        settings = cls(**values)
        settings._validate()
        return settings

    def require(self, *names: str) -> Settings:
        """Fail at start-up when a setting this process needs is unset."""
        missing = [
            _field(name).metadata["env"] for name in names if getattr(self, name) in (None, "")
        ]
        if missing:
            raise SettingsError(f"missing required setting(s): {', '.join(missing)}")
        return self

    def _validate(self) -> None:
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL must start with redis:// or rediss://")
        if self.database_url and not self.database_url.startswith("postgresql"):
            raise SettingsError("DATABASE_URL must be a postgresql:// URL")
        positive = ("gateway_port", "db_pool_size", "pdf_url_expiry_seconds")
        for name in (*positive, "delivery_stuck_after_seconds"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{_field(name).metadata['env']} must be positive")
        if not 1 <= self.tax_report_day <= 28 or not 0 <= self.tax_report_hour <= 23:
            raise SettingsError("TAX_REPORT_DAY must be 1 to 28 and TAX_REPORT_HOUR 0 to 23")


def env_names() -> list[str]:
    """Every environment variable the settings read."""
    return [f.metadata["env"] for f in dataclasses.fields(Settings)]


def secret_env_names() -> list[str]:
    """The variables that hold secrets: never logged, never in a task message."""
    return [f.metadata["env"] for f in dataclasses.fields(Settings) if f.metadata["secret"]]


def read_env_file(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines (the file `suoops dev` writes); a missing file is empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def _field(name: str) -> dataclasses.Field[Any]:
    return next(f for f in dataclasses.fields(Settings) if f.name == name)


def _parse(env_name: str, raw: str, hint: Any) -> Any:
    base = hint
    if isinstance(hint, types.UnionType):
        base = next(a for a in typing.get_args(hint) if a is not type(None))
    try:
        if base is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if base is int:
            return int(raw)
        if base is float:
            return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{env_name} is malformed: expected {base.__name__}") from exc
    return raw
