"""The sale-point client's TLS context, and an exception in a few words for its messages.

>>> describe(OSError(2, "No such file or directory"))
'FileNotFoundError: [Errno 2] No such file or directory'
>>> tls_context(True, None)
True
"""

from __future__ import annotations

import ssl

from stsvend.config import ConfigError

__all__ = ["describe", "tls_context"]


def tls_context(verify: bool | str | ssl.SSLContext, cert: str | tuple[str, str] | None,
                ) -> bool | ssl.SSLContext:  # fmt: skip
    """The TLS context of ``verify`` and ``cert`` (a file that cannot be read: ConfigError)."""
    if isinstance(verify, ssl.SSLContext):
        context = verify
    elif verify is True and cert is None:
        return True
    else:
        import certifi  # httpx's own CAs, so that a client certificate changes nothing else

        try:
            context = ssl.create_default_context(
                cafile=verify if isinstance(verify, str) else certifi.where()
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"the server's CA file {verify}: {describe(exc)}") from None
        if verify is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        chain, key = (cert, None) if isinstance(cert, str) else cert
        try:
            context.load_cert_chain(chain, key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"the client certificate {chain}: {describe(exc)}") from None
    return context


def describe(exc: Exception) -> str:
    """An exception in a few words, for a message (never a header or a key)."""
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
