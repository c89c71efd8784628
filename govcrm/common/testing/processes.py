"""Start GovCRM's real processes on 127.0.0.1 for integration and fault tests.

What the scaled deployment runs (docs/deploy.md), each in its own process group so that a test
can SIGTERM, SIGKILL or restart it and always clean it up:

- `redis_start()`: a private `redis-server` on a free port, its data in a temporary directory
  (never the shared Redis on :6379, so restarts and flushes touch nobody else);
- `postgres_database()`: a fresh PostgreSQL database, created and dropped by the context manager
  (enter it before `Processes`, so that the processes are stopped before the database is dropped);
- `govcrm_env()`: the environment of the production settings for these (secrets are test values);
- `gunicorn_start()`, `worker_start()`, `mailserver_start()`: `config.settings.production`
  processes, started and waited for until they answer;
- `govcrm_run()`: a one-shot `govcrm` command (migrate, demo, token …);
- `SmtpSink`: a local SMTP server that keeps what the notification e-mails deliver.

Every started process is a `Proc`: `stop()` (SIGTERM, then SIGKILL after a grace period),
`kill()` (SIGKILL of the whole group, as a crash), `restart()`, `log()` (its output, for
assertion messages). Use `Processes` as a context manager to stop everything at the end.
The SMS sink is `govcrm.channels.sms.tests.provider.SmsProvider`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]
REDIS_SERVER = os.environ.get("GOVCRM_TEST_REDIS_SERVER", "redis-server")


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.1,
               message: str | Callable[[], str] = "condition") -> object:
    """Poll `predicate` until it returns something true; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # not up yet: connection refused and the like
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            what = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Proc:
    """One started process (and its children, in its own process group), with its log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logdir: Path,
                 ready: Callable[[Proc], object] | None = None, ready_timeout: float = 30):
        self.name, self.argv, self.env, self.ready = name, argv, env, ready
        self.ready_timeout = ready_timeout
        self.logfile = logdir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> Proc:
        """Start the process; with `wait`, return once it is ready (else call `wait_ready()` later)."""
        with self.logfile.open("ab") as log:
            self.popen = subprocess.Popen(self.argv, env=self.env, cwd=BASE_DIR, stdout=log,  # noqa: S603
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        return self.wait_ready() if wait else self

    def wait_ready(self) -> Proc:
        if self.ready is not None:
            wait_until(lambda: self._check_alive() and self.ready(self), self.ready_timeout,
                       message=lambda: f"{self.name} to be ready; its log:\n{self.log()[-3000:]}")
        return self

    def _check_alive(self) -> bool:
        if self.popen is not None and self.popen.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.popen.returncode}; its log:\n{self.log()[-3000:]}")
        return True

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process and everything it started (a crash, not a shutdown)."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)

    def stop(self, grace: float = 10) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL of the group after `grace` seconds."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace)
        self.signal_group(signal.SIGKILL)  # children left behind (an RQ work horse, gunicorn workers)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def restart(self) -> Proc:
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class Processes:
    """Owns the started processes and a temporary directory; stops all of them on exit."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="govcrm-procs-")
        self.dir = Path(self._tmp.name)
        self.procs: list[Proc] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add(self, proc: Proc) -> Proc:
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop(grace=5)
        self._tmp.cleanup()

    def logs(self) -> str:
        return "\n".join(f"===== {p.name}\n{p.log()[-4000:]}" for p in self.procs)


# --- Redis ---------------------------------------------------------------------------------------


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")


def redis_start(procs: Processes, *, name: str = "redis", port: int | None = None,
                appendonly: bool = False) -> Proc:
    """A private redis-server on 127.0.0.1. `appendonly=False`: a restart loses every queued job.

    The returned Proc has `.port` and `.url`; `restart()` keeps the port.
    """
    port = port or free_port()
    data = procs.dir / name
    data.mkdir(exist_ok=True)
    argv = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data), "--save", "",
            "--appendonly", "yes" if appendonly else "no", "--protected-mode", "yes", "--daemonize", "no"]
    proc = Proc(name, argv, {**os.environ}, procs.dir, ready=lambda p: _redis_ping(port), ready_timeout=15)
    proc.port = port  # type: ignore[attr-defined]
    proc.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    return procs.add(proc).start()


# --- PostgreSQL ----------------------------------------------------------------------------------


def postgres_admin_url() -> str:
    """The server to create test databases on: GOVCRM_TEST_POSTGRES_URL, else DATABASE_URL's server
    when that is PostgreSQL, else the local one."""
    url = os.environ.get("GOVCRM_TEST_POSTGRES_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    return url.rsplit("/", 1)[0] + "/postgres"


@contextlib.contextmanager
def postgres_database(prefix: str = "govcrm_it") -> Iterator[str]:
    """A new, empty PostgreSQL database; yields its URL and drops it (forcing connections off) after."""
    import psycopg

    admin = postgres_admin_url()
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- GovCRM processes ----------------------------------------------------------------------------


def govcrm_env(*, database_url: str, home: Path, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of production settings with test secrets; `redis_url` selects the RQ backend."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GOVCRM_", "DJANGO_", "DATABASE_URL", "PYTEST_", "EMAIL_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "integration-test-secret-key-" + "x" * 32,
        "GOVCRM_FIELD_KEY": "integration-test-field-key",
        "DATABASE_URL": database_url,
        "GOVCRM_HOME": str(home),
        "GOVCRM_CACHE": "database",  # one cache for every process, as on several machines
        "GOVCRM_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GOVCRM_TASKS_BACKEND": "rq" if redis_url else "database",
        "GOVCRM_LOG_LEVEL": "WARNING",
        # Integration, fault and load runs send everything from 127.0.0.1: no per-address limits
        # (govcrm/common/ratelimit.py; they are tested in test_ratelimit.py).
        "GOVCRM_RATE_LIMITS": "off",
        "PYTHONUNBUFFERED": "1",
    })
    if redis_url:
        env["GOVCRM_REDIS_URL"] = redis_url
    env.update(extra)
    return env


def govcrm_run(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run one `govcrm` command to the end; its stdout, or AssertionError with its output."""
    done = subprocess.run([sys.executable, "-m", "govcrm", *args], env=env, cwd=BASE_DIR,  # noqa: S603
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise AssertionError(f"govcrm {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def gunicorn_start(procs: Processes, env: dict[str, str], *, name: str = "web", port: int | None = None,
                   workers: int = 1, threads: int = 4, wait: bool = True) -> Proc:
    """`gunicorn config.wsgi:application` as production runs it; ready when /healthz answers 200.

    The returned Proc has `.port` and `.url` (ending in "/")."""
    port = port or free_port()
    argv = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", str(threads), "--log-level", "warning",
            "--graceful-timeout", "5"]
    proc = Proc(name, argv, env, procs.dir, ready=lambda p: _healthy(port), ready_timeout=60)
    proc.port = port  # type: ignore[attr-defined]
    proc.url = f"http://127.0.0.1:{port}/"  # type: ignore[attr-defined]
    return procs.add(proc).start(wait)


def worker_start(procs: Processes, env: dict[str, str], *, name: str = "worker", schedule: bool = True,
                 ready: Callable[[Proc], object] | None = None, wait: bool = True) -> Proc:
    """`govcrm worker` (RQ or database backend, from `env`). Not waited for unless `ready` is given:
    on RQ, `rq_worker_names(redis_url)` lists the workers that have registered."""
    argv = [sys.executable, "-m", "govcrm", "worker", "-v", "2" if env.get("GOVCRM_TASKS_BACKEND") == "rq" else "1"]
    if not schedule:
        argv.append("--no-schedule")
    return procs.add(Proc(name, argv, env, procs.dir, ready=ready, ready_timeout=60)).start(wait)


def mailserver_start(procs: Processes, env: dict[str, str], *, name: str = "mailserver",
                     port: int | None = None) -> Proc:
    """`govcrm mailserver` on a free port; ready when it greets. The Proc has `.port`."""
    port = port or free_port()
    env = {**env, "GOVCRM_SMTP_HOST": "127.0.0.1", "GOVCRM_SMTP_PORT": str(port)}

    def greets(_: Proc) -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            return s.recv(64).startswith(b"220")

    proc = Proc(name, [sys.executable, "-m", "govcrm", "mailserver"], env, procs.dir, ready=greets)
    proc.port = port  # type: ignore[attr-defined]
    return procs.add(proc).start()


def rq_worker_names(redis_url: str) -> list[str]:
    """Names of the RQ workers registered in this Redis (alive ones keep a heartbeat)."""
    import redis
    from rq import Worker

    with redis.Redis.from_url(redis_url) as conn:
        return [w.name for w in Worker.all(connection=conn)]


# --- an SMTP sink --------------------------------------------------------------------------------


class SmtpSink:
    """A local SMTP server (aiosmtpd) that keeps every message it receives, parsed."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
                sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()
