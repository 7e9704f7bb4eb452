"""The server's h11 protocol hands the verified client certificate to the application: uvicorn
in this process, mutual TLS with certificates made by openssl."""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from stsvend.server.tls_protocol import CLIENT_CERT, ClientCertProtocol, fingerprint
from tests.cli.test_serve import _pki
from tests.server.conftest import free_port


def test_each_request_carries_its_connections_certificate(tmp_path: Path) -> None:
    pki = _pki(tmp_path)
    seen: list[str | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen.append(scope.get("extensions", {}).get("tls", {}).get(CLIENT_CERT))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=port, http=ClientCertProtocol, log_level="warning",
        ssl_certfile=pki["server.pem"], ssl_keyfile=pki["server.key"],
        ssl_ca_certs=pki["ca.pem"], ssl_cert_reqs=ssl.CERT_REQUIRED,
    ))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        trust = ssl.create_default_context(cafile=pki["ca.pem"])
        trust.load_cert_chain(pki["client.pem"], pki["client.key"])
        with httpx.Client(verify=trust) as client:
            assert client.get(f"https://127.0.0.1:{port}/").status_code == 200
            assert client.get(f"https://127.0.0.1:{port}/").status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    der = ssl.PEM_cert_to_DER_cert(Path(pki["client.pem"]).read_text())
    assert seen == [fingerprint(der)] * 2
    assert fingerprint(der) == hashlib.sha256(der).hexdigest()
