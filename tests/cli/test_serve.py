"""``stsvend serve`` as a process on loopback, called over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import STSVEND, Cli

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(cli: Cli, scheme: str = "http", client: httpx.Client | None = None, *,
             env: dict[str, str] | None = None, stderr: list[str] | None = None,
             workers: int = 1) -> Iterator[str]:  # fmt: skip
    """``stsvend serve`` as a process on a free loopback port, until the block ends; its
    standard error (a file: the access log must never fill a pipe) goes to ``stderr``."""
    port = _free_port()
    errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115  # read, closed below
    proc = subprocess.Popen(
        [*STSVEND, "serve", "--port", str(port), "--workers", str(workers)],
        env={**cli.base_env(None), **(env or {})}, stdout=subprocess.PIPE, stderr=errors, text=True,
    )  # fmt: skip
    base = f"{scheme}://127.0.0.1:{port}"
    probe = client or httpx.Client()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if probe.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out, _ = proc.communicate(timeout=5)
                errors.seek(0)
                pytest.fail(f"the server did not start: {out}\n{errors.read()}")
            time.sleep(0.2)
        yield base
    finally:
        probe.close()  # an open keep-alive connection would hold the graceful shutdown
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    # uvicorn finishes the requests in flight, then ends by the signal it was sent.
    assert proc.returncode in (0, -signal.SIGTERM), proc.returncode
    errors.seek(0)
    text = errors.read()
    errors.close()
    assert "Traceback" not in text
    if stderr is not None:
        stderr.append(text)


@pytest.fixture
def server(cli: Cli) -> Iterator[tuple[str, Cli]]:
    with _serving(cli) as base:
        yield base, cli


def test_health_openapi_and_a_terminal_reading_its_float(server: tuple[str, Cli]) -> None:
    base, cli = server
    key = cli.json("terminals", "rotate", "SHOP1", "TILL-1", role="admin")["key"]
    cli.ok("vendors", "deposit", "SHOP1", "250", "--reference", "B-9", role="supervisor")
    health = httpx.get(f"{base}/v1/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    spec = httpx.get(f"{base}/v1/openapi.json").json()
    assert spec == json.loads((DOCS / "openapi.json").read_text("utf-8"))
    mine = httpx.get(f"{base}/v1/vendor", headers={"Authorization": f"Bearer {key}"})
    assert mine.status_code == 200, mine.text
    assert (mine.json()["code"], mine.json()["float"]) == ("SHOP1", 25_000)


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer stv_000000000000_" + "0" * 32]
)
def test_no_valid_key_is_401_problem_json_revealing_nothing(
    server: tuple[str, Cli], header: str | None
) -> None:
    base, _cli = server
    answer = httpx.get(f"{base}/v1/vendor", headers={} if header is None else
                       {"Authorization": header})  # fmt: skip
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["www-authenticate"] == "Bearer"
    body = answer.json()
    assert (body["code"], body["status"], body["type"]) == (
        "unauthenticated",
        401,
        "urn:stsvend:problem:unauthenticated",
    )
    assert "Traceback" not in answer.text and "SHOP1" not in answer.text


def test_unknown_paths_methods_and_oversized_bodies_are_problems(server: tuple[str, Cli]) -> None:
    base, cli = server
    missing = httpx.get(f"{base}/v1/nothing-here")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = httpx.post(f"{base}/v1/health")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "input")
    big = httpx.post(f"{base}/v1/vendor", content=b"x" * 20_000)
    assert (big.status_code, big.json()["code"]) == (413, "input")
    # Sent in chunks, with no length to refuse it by: refused once the limit is passed.
    key = cli.json("terminals", "rotate", "SHOP1", "TILL-1", role="admin")["key"]
    chunked = httpx.post(f"{base}/v1/purchases", content=iter([b"{" + b" " * 4096] * 8),
                         headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert (chunked.status_code, chunked.json()["code"]) == (413, "input")


def test_sqlite_serves_one_worker(cli: Cli) -> None:
    if cli.database_url:
        pytest.skip("a PostgreSQL store may have several workers")
    refused = cli.run("serve", "--workers", "2", role=None)
    assert refused.returncode == 3 and "SQLite serves one worker" in refused.stderr


def _pki(folder: Path) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=stsvend test CA")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client", "other"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={name}")  # fmt: skip
        extra = ["-extfile", "san.ext"] if name == "server" else []
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", *extra)  # fmt: skip
    return {n: str(folder / n) for n in ("ca.pem", "server.pem", "server.key", "client.pem",
                                          "client.key", "other.pem", "other.key")}  # fmt: skip


def _client(pki: dict[str, str], *, cert: bool = False, name: str = "client") -> httpx.Client:
    trust = ssl.create_default_context(cafile=pki["ca.pem"])
    if cert:
        trust.load_cert_chain(pki[f"{name}.pem"], pki[f"{name}.key"])
    return httpx.Client(verify=trust)


def test_tls_and_mutual_tls(cli: Cli, tmp_path: Path) -> None:
    pki = _pki(tmp_path)
    key = cli.json("terminals", "rotate", "SHOP1", "TILL-1", role="admin")["key"]
    auth = {"Authorization": f"Bearer {key}"}
    tls = {"STSVEND_TLS_CERT": pki["server.pem"], "STSVEND_TLS_KEY": pki["server.key"]}
    trusting = _client(pki)
    with _serving(cli, "https", trusting, env=tls) as base:
        assert trusting.get(f"{base}/v1/vendor", headers=auth).json()["code"] == "SHOP1"
        with pytest.raises(httpx.ConnectError):  # a client that does not trust the CA
            httpx.get(f"{base}/v1/health")
    mutual = {**tls, "STSVEND_TLS_CLIENT_CA": pki["ca.pem"]}
    with_cert = _client(pki, cert=True)
    with _serving(cli, "https", with_cert, env=mutual) as base:
        assert with_cert.get(f"{base}/v1/vendor", headers=auth).status_code == 200
        with _client(pki) as no_cert, pytest.raises(httpx.TransportError):
            no_cert.get(f"{base}/v1/health")  # no client certificate: no connection


def test_a_terminal_bound_to_its_certificate_needs_it(cli: Cli, tmp_path: Path) -> None:
    pki = _pki(tmp_path)
    key = cli.json("terminals", "rotate", "SHOP1", "TILL-1", role="admin")["key"]
    auth = {"Authorization": f"Bearer {key}"}
    bound = cli.json("terminals", "bind", "SHOP1", "TILL-1", "--cert", pki["client.pem"])
    assert len(bound["cert_sha256"]) == 64
    assert cli.operations("terminals.bind")
    mutual = {"STSVEND_TLS_CERT": pki["server.pem"], "STSVEND_TLS_KEY": pki["server.key"],
              "STSVEND_TLS_CLIENT_CA": pki["ca.pem"]}  # fmt: skip
    own, other = _client(pki, cert=True), _client(pki, cert=True, name="other")
    with _serving(cli, "https", own, env=mutual) as base:
        assert own.get(f"{base}/v1/vendor", headers=auth).status_code == 200
        # The same key over a connection with another (CA-signed) certificate: refused.
        refused = other.get(f"{base}/v1/vendor", headers=auth)
        assert (refused.status_code, refused.json()["code"]) == (401, "unauthenticated")
        other.close()
    # Without mutual TLS no certificate is shown, so a bound terminal is not admitted at all.
    plain = {k: v for k, v in mutual.items() if k != "STSVEND_TLS_CLIENT_CA"}
    with _serving(cli, "https", _client(pki), env=plain) as base, _client(pki) as anyone:
        assert anyone.get(f"{base}/v1/vendor", headers=auth).status_code == 401
    cli.ok("terminals", "bind", "SHOP1", "TILL-1", "--unbind")
    assert cli.run("terminals", "bind", "SHOP1", "TILL-1").returncode == 3
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    assert "one PEM certificate" in cli.run("terminals", "bind", "SHOP1", "TILL-1",
                                            "--cert", str(bad)).stderr  # fmt: skip


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STSVEND_TLS_CERT": "/nonexistent/cert.pem"}, "tls_cert and tls_key go together"),
        ({"STSVEND_TLS_CLIENT_CA": "/nonexistent/ca.pem"}, "needs tls_cert"),
        ({"STSVEND_TLS_CERT": "/nonexistent/c.pem", "STSVEND_TLS_KEY": "/nonexistent/k.pem"},
         "cannot read /nonexistent/c.pem"),
        ({"STSVEND_SERVER_PORT": "70000"}, "server_port"),
    ],
)  # fmt: skip
def test_server_settings_are_checked_before_it_starts(
    cli: Cli, env: dict[str, str], message: str
) -> None:
    refused = cli.run("serve", role=None, **env)
    assert refused.returncode == 8, (refused.returncode, refused.stderr)
    assert message in refused.stderr and "Traceback" not in refused.stderr


def test_access_log_lines_on_stderr_and_metrics_over_the_workers(cli: Cli, tmp_path: Path) -> None:
    """The served process writes one JSON line per request on standard error (never a key) and
    answers GET /metrics to its token; on PostgreSQL two workers' counts add up."""
    key = cli.json("terminals", "rotate", "SHOP1", "TILL-1", role="admin")["key"]
    token = "scrape-token-for-the-serve-test"
    workers = 2 if cli.database_url else 1
    auth = {"Authorization": f"Bearer {key}"}
    stderr: list[str] = []
    env = {"STSVEND_METRICS_TOKEN": token, "TMPDIR": str(tmp_path)}  # the workers' metrics folder
    sent = 0
    with (
        _serving(cli, env=env, stderr=stderr, workers=workers) as base,
        ThreadPoolExecutor(6) as pool,
    ):

        def vend_info(n: int) -> None:
            answer = httpx.get(f"{base}/v1/vendor", headers={**auth, "X-Request-Id": f"t-{n}"})
            assert (answer.status_code, answer.headers["x-request-id"]) == (200, f"t-{n}")

        # Rounds of concurrent connections, until each worker has answered some (and so
        # written its counts' file).
        for _ in range(20):
            list(pool.map(vend_info, range(sent, sent + 6)))
            sent += 6
            time.sleep(1.5)
            if len(list(tmp_path.glob("stsvend-metrics-*/metrics-*.json"))) == workers or (
                workers == 1
            ):
                break
        assert len(list(tmp_path.glob("stsvend-metrics-*/metrics-*.json"))) == (
            workers if workers > 1 else 0
        )
        assert httpx.get(f"{base}/metrics").status_code == 401
        line = f'stsvend_http_requests_total{{operation="/v1/vendor",outcome="2xx"}} {sent}'
        seen = 0
        deadline = time.monotonic() + 20
        while seen < 4 and time.monotonic() < deadline:  # each scrape: any worker, the whole
            scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"})
            assert scraped.status_code == 200, scraped.text
            seen = seen + 1 if line in scraped.text.splitlines() else 0
            time.sleep(0.1)
        assert seen == 4, scraped.text
        assert "stsvend_vendor_float_minor{currency=" in scraped.text
    assert list(tmp_path.glob("stsvend-metrics-*")) == []  # removed when the server stopped
    lines = [json.loads(x) for x in stderr[0].splitlines() if x.startswith("{")]
    assert len({x["pid"] for x in lines}) == workers
    mine = [x for x in lines if x["request_id"].startswith("t-")]
    assert sorted(x["request_id"] for x in mine) == sorted(f"t-{n}" for n in range(sent))
    assert {(x["path"], x["status"], x["vendor"], x["outcome"]) for x in mine} == {
        ("/v1/vendor", 200, "SHOP1", "2xx")}  # fmt: skip
    assert mine[0]["terminal"] == key.split("_")[1]
    assert any(x["path"] == "/metrics" and x["status"] == 401 for x in lines)
    assert key not in stderr[0] and key.split("_")[2] not in stderr[0] and token not in stderr[0]
