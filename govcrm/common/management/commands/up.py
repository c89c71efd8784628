"""`govcrm up [--host H] [--port P]`: everything of the embedded default in one command.

Migrates, collects static files, loads demo data into an empty database, starts the
background worker, and serves the web application with gunicorn (2 worker processes of 4
threads each by default: GOVCRM_WEB_WORKERS, GOVCRM_WEB_THREADS; access log on stdout unless
GOVCRM_ACCESS_LOG=off), printing the URL and the demo accounts. Stops the children on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, load demo data if empty, start the worker and serve the application."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("GOVCRM_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("GOVCRM_WEB_WORKERS", "2")))
        # Threads per web process (gunicorn's gthread worker): while one request waits for the
        # database another runs; also keeps client connections alive. 1: the plain sync worker.
        parser.add_argument("--threads", type=int, default=int(os.environ.get("GOVCRM_WEB_THREADS", "4")))
        parser.add_argument("--demo-cases", type=int, default=int(os.environ.get("GOVCRM_DEMO_CASES", "5000")))
        parser.add_argument("--no-worker", action="store_true")
        # gunicorn's access log on stdout; off behind nginx, which logs every request itself (the
        # production layout of docs/deploy.md runs gunicorn without one): a twentieth of the web
        # processes' CPU at peak intake (bench/RESULTS.md, session 7).
        parser.add_argument("--access-log", choices=["on", "off"], default=os.environ.get("GOVCRM_ACCESS_LOG", "on"))

    def handle(self, *args, **opts):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from govcrm.cases.models import Case

        if not Case.objects.exists() and opts["demo_cases"] > 0:
            self.stdout.write(f"Empty database: loading {opts['demo_cases']} demo cases …")
            call_command("demo", cases=opts["demo_cases"], seed=1)
        children: list[subprocess.Popen] = []
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                                      "config.settings.local")}
        exe = [sys.executable, "-m", "govcrm"]
        if not opts["no_worker"]:
            children.append(subprocess.Popen([*exe, "worker"], env=env))
        for extra in getattr(settings, "GOVCRM_UP_EXTRA_PROCESSES", []):
            children.append(subprocess.Popen([*exe, *extra], env=env))
        url = f"http://{opts['host']}:{opts['port']}/"
        self._banner(url)
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"{opts['host']}:{opts['port']}",
             "--workers", str(opts["workers"]), *self._thread_args(opts["threads"]),
             *(["--access-logfile", "-"] if opts["access_log"] == "on" else []), "--log-level", "warning"],
            env=env,
        )
        children.append(web)

        def stop(*_):
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    @staticmethod
    def _thread_args(threads: int) -> list[str]:
        if threads <= 1:
            return []
        return ["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "5"]

    def _banner(self, url: str) -> None:
        w = self.stdout.write
        w("")
        w(f"GovCRM is running at {url}")
        w(f"  staff console  {url}console/     admin  {url}admin/")
        w(f"  REST API       {url}api/v1/docs  OpenAPI {url}api/v1/openapi.json")
        w(f"  portal         {url}             Open311 {url}open311/v2/discovery.json")
        smtp = f"{settings.GOVCRM_SMTP_HOST}:{settings.GOVCRM_SMTP_PORT}"
        w(f"  e-mail intake  {settings.GOVCRM_MAIL_INTAKE} via SMTP {smtp}")
        w(f"  WeChat         {url}channels/wechat/  token: {settings.GOVCRM_WECHAT_TOKEN}")
        w(f"  SMS webhook    {url}channels/sms/inbound  secret: {settings.GOVCRM_SMS_SECRET}")
        w(f"  CTI events     {url}channels/cti/events  token: {settings.GOVCRM_CTI_TOKEN}")
        w(f"  data and state {settings.GOVCRM_HOME}")
        try:
            from govcrm.demo.city import DEMO_PASSWORD, demo_accounts
        except ImportError:
            return
        w(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for username, role, unit in demo_accounts():
            w(f"  {username:<18} {role:<12} {unit}")
        w("")
