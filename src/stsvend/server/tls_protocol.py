"""uvicorn's HTTP/1.1 protocol, handing the client's certificate to the application.

uvicorn does not put a TLS client certificate in the ASGI scope.  With mutual TLS,
``stsvend serve`` runs this protocol instead of uvicorn's own: when a connection is made, it
takes the certificate the TLS handshake verified and gives every request on that connection
``scope["extensions"]["tls"]["client_cert_sha256"]``, the SHA-256 (hex) of the certificate's
DER form.  :func:`stsvend.services.terminals.authenticate` compares it with the fingerprint a
terminal is bound to (``stsvend terminals bind``).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["CLIENT_CERT", "ClientCertProtocol", "fingerprint"]

#: Where a request's scope carries the client certificate's fingerprint.
CLIENT_CERT = "client_cert_sha256"


def fingerprint(der: bytes) -> str:
    """The SHA-256 (hex) of a certificate's DER form."""
    return hashlib.sha256(der).hexdigest()


class ClientCertProtocol(H11Protocol):
    """H11Protocol, with the connection's client certificate in every request's scope."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        tls = transport.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        if not der:
            return
        seen, app = fingerprint(der), self.app

        async def with_certificate(scope: Any, receive: Any, send: Any) -> None:
            extensions = scope.setdefault("extensions", {})
            extensions["tls"] = {**extensions.get("tls", {}), CLIENT_CERT: seen}
            await app(scope, receive, send)

        self.app = with_certificate
