"""The shipped deployment files work: deploy/nginx.conf passes `nginx -t` and proxies HTTPS to
gunicorn with the headers production settings trust; compose.yaml and the Dockerfile are coherent.

nginx comes from Debian (bin/system-deps). The nginx tests copy the config into a temporary
prefix and change only host paths (logs) and listening ports; compose.yaml is parsed and checked,
not run (no container runtime or image registry is available to the tests).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from govcrm.common.testing.processes import (
    BASE_DIR,
    Proc,
    Processes,
    free_port,
    govcrm_env,
    gunicorn_start,
    wait_until,
)

DEPLOY = BASE_DIR / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is missing: bin/system-deps installs it")


def _self_signed(folder: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crm.city.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("crm.city.example")]), critical=False)
            .sign(key, hashes.SHA256()))
    folder.mkdir()
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))


def _nginx_prefix(tmp: Path, *, http: int = 80, https: int = 443, upstream: str | None = None) -> Path:
    """The shipped config in a temporary prefix: logs there, ports and upstream as given."""
    conf = (DEPLOY / "nginx.conf").read_text()
    conf = conf.replace("/var/log/nginx/", f"{tmp}/logs/")
    conf = re.sub(r"listen (\[::\]:)?80;", lambda m: f"listen {m.group(1) or '127.0.0.1:'}{http};", conf)
    conf = re.sub(r"listen (\[::\]:)?443 ssl", lambda m: f"listen {m.group(1) or '127.0.0.1:'}{https} ssl", conf)
    if http != 80:
        conf = "\n".join(line for line in conf.splitlines() if "listen [::]" not in line)  # loopback v4 only
    (tmp / "logs").mkdir()
    (tmp / "nginx.conf").write_text(conf)
    shutil.copy("/etc/nginx/mime.types", tmp / "mime.types")
    (tmp / "govcrm-upstream.conf").write_text(upstream or (DEPLOY / "govcrm-upstream.conf").read_text())
    _self_signed(tmp / "tls")
    return tmp


def _nginx(prefix: Path, *args: str) -> list[str]:
    return [NGINX, "-p", f"{prefix}/", "-c", f"{prefix}/nginx.conf", "-e", f"{prefix}/logs/startup.log",
            "-g", f"pid {prefix}/nginx.pid;", *args]


@needs_nginx
def test_nginx_accepts_the_shipped_config(tmp_path):
    prefix = _nginx_prefix(tmp_path)
    done = subprocess.run(_nginx(prefix, "-t"), capture_output=True, text=True, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr


@needs_nginx
def test_nginx_refuses_a_broken_config(tmp_path):
    """The check above can fail: a config with a typo is refused."""
    prefix = _nginx_prefix(tmp_path)
    (prefix / "nginx.conf").write_text((prefix / "nginx.conf").read_text().replace("proxy_pass", "proxy_passs", 1))
    done = subprocess.run(_nginx(prefix, "-t"), capture_output=True, text=True, check=False)  # noqa: S603
    assert done.returncode != 0 and "proxy_passs" in done.stderr


@pytest.mark.slow
@needs_nginx
def test_https_through_nginx_to_two_gunicorn_processes(tmp_path):
    """TLS at nginx, plain HTTP to gunicorn; Django sees HTTPS (HSTS, secure redirects) via X-Forwarded-Proto."""
    with Processes() as procs:
        env = govcrm_env(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", home=tmp_path / "home",
                         GOVCRM_ALLOWED_HOSTS="crm.city.example,127.0.0.1")
        webs = [gunicorn_start(procs, env, name=f"web{i}", wait=False) for i in (1, 2)]
        http, https = free_port(), free_port()
        (tmp_path / "nginx").mkdir()
        prefix = _nginx_prefix(tmp_path / "nginx", http=http, https=https,
                               upstream="".join(f"server 127.0.0.1:{w.port};\n" for w in webs))
        for web in webs:
            web.wait_ready()
        procs.add(Proc("nginx", _nginx(prefix, "-g", "daemon off;"), {}, procs.dir)).start()
        with httpx.Client(verify=False, timeout=10, headers={"Host": "crm.city.example"}) as client:  # noqa: S501 - our self-signed certificate
            wait_until(lambda: client.get(f"https://127.0.0.1:{https}/healthz").status_code == 200, 30,
                       message=procs.logs)
            answers = [client.get(f"https://127.0.0.1:{https}/healthz") for _ in range(6)]
            assert {a.status_code for a in answers} == {200}
            assert answers[0].json()["status"] == "ok"
            # Django saw a secure request (X-Forwarded-Proto): production sends HSTS only over HTTPS
            assert "max-age=31536000" in answers[0].headers.get("strict-transport-security", "")
            plain = client.get(f"http://127.0.0.1:{http}/console/")
            assert plain.status_code == 301
            assert plain.headers["location"] == "https://crm.city.example/console/"
            assert client.get(f"http://127.0.0.1:{http}/healthz").status_code == 200  # probes stay on HTTP
    # both gunicorn processes served requests (the access log names the upstream of each)
    log = (prefix / "logs" / "govcrm.access.log").read_text()
    for web in webs:
        assert f"upstream=127.0.0.1:{web.port} " in log, log


def test_compose_file_describes_the_scaled_deployment():
    compose = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "worker", "mailserver", "postgres", "redis", "nginx", "migrate"} <= set(services)
    for name in ("web", "worker", "mailserver", "migrate"):
        service = services[name]
        env = service["environment"]
        assert env["GOVCRM_TASKS_BACKEND"] == "rq" and env["GOVCRM_REDIS_URL"].startswith("redis://redis:")
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert service["build"] == "." and service["env_file"] == ".env"
    assert services["worker"]["command"] == ["govcrm", "worker"]
    assert services["mailserver"]["command"] == ["govcrm", "mailserver"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name, service in services.items():  # every dependency is a service of this file
        assert set(service.get("depends_on", {})) <= set(services), name
    for volume in services["nginx"]["volumes"]:  # the files nginx mounts are shipped (tls/ is the operator's)
        source = volume.split(":")[0]
        if source.startswith("./") and "tls" not in source:
            assert (BASE_DIR / source).exists(), source
    # the variables compose needs are documented in the example environment file
    example = (DEPLOY / "env.example").read_text()
    for needed in ("DJANGO_SECRET_KEY", "GOVCRM_FIELD_KEY", "POSTGRES_PASSWORD"):
        assert re.search(rf"^{needed}=", example, re.M), needed


def test_dockerfile_copies_what_exists_and_runs_production_settings():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.M):
        for source in line.split()[:-1]:
            assert (BASE_DIR / source).exists(), source
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in dockerfile
    assert "requirements.lock" in dockerfile
