"""``stsvend serve``: the sale-point server (docs/server.md)."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

__all__ = ["serve"]


@click.command()
@click.option("--host", default=None, help="Address to listen on [server_host: 127.0.0.1].")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="Port to listen on [server_port: 8080].")  # fmt: skip
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Worker processes, PostgreSQL only: SQLite has one writer "
                   "[server_workers: 1].")  # fmt: skip
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the sale-point server: vendors' terminals buy tokens over HTTP.

    The store, keystore and configuration are the CLI's own (STSVEND_* and the TOML file, which
    also give the defaults of the options, and TLS: tls_cert, tls_key, tls_client_ca for mutual
    TLS).  On a fresh machine it serves the TEST demo: the demo store, a TEST vendor DEMO and
    its terminal TILL-1, whose key it prints.  Needs the server extra: pip install
    'stsvend[server]'.
    """
    import ssl

    from stsvend.config import load_config
    from stsvend.errors import InputError
    from stsvend.store.engine import is_sqlite

    config = load_config()
    host = config.server_host if host is None else host
    port = config.server_port if port is None else port
    workers = config.server_workers if workers is None else workers
    if workers > 1 and is_sqlite(config.database_url):
        raise InputError("SQLite serves one worker: use --workers 1, or PostgreSQL for more")
    tls: dict[str, object] = {}
    if config.tls_cert:
        tls = {"ssl_certfile": config.tls_cert, "ssl_keyfile": config.tls_key}
        _check_readable(config.tls_cert, "tls_cert")
        _check_readable(config.tls_key, "tls_key")
    if config.tls_client_ca:
        _check_readable(config.tls_client_ca, "tls_client_ca")
        # uvicorn's own protocol does not hand the client's certificate to the application.
        tls.update(ssl_ca_certs=config.tls_client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED,
                   http="stsvend.server.tls_protocol:ClientCertProtocol")  # fmt: skip
    try:
        import uvicorn
    except ImportError:
        raise InputError("the server is not installed: pip install 'stsvend[server]'") from None
    scheme = "https" if tls else "http"
    from stsvend_cli import demo_server

    if demo_server.wants_demo(config):
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        for line in demo_server.banner(demo_server.prepare(config), f"{scheme}://{shown}:{port}"):
            click.echo(line)
    mutual = " with client certificates" if config.tls_client_ca else ""
    click.echo(f"stsvend sale-point server on {scheme}://{host}:{port}{mutual} "
               f"({workers} worker(s))")  # fmt: skip
    with _metrics_dir(workers):
        uvicorn.run("stsvend.server.asgi:app", factory=True, host=host, port=port,
                    workers=workers, log_config=_log_config(), log_level="warning",
                    access_log=False, timeout_graceful_shutdown=30, **tls)  # type: ignore[arg-type]  # fmt: skip


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the server's own on standard error: the access log as JSON lines
    (its messages are JSON documents), and warnings and errors of ``stsvend.server``."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["json_lines"] = {"format": "%(message)s"}
    config["formatters"]["stsvend"] = {"format": "%(levelname)s %(name)s: %(message)s"}
    for handler, formatter in (("access_json", "json_lines"), ("stsvend", "stsvend")):
        config["handlers"][handler] = {"class": "logging.StreamHandler", "formatter": formatter,
                                       "stream": "ext://sys.stderr"}  # fmt: skip
    config["loggers"]["stsvend.server.access"] = {"handlers": ["access_json"], "level": "INFO",
                                                  "propagate": False}  # fmt: skip
    config["loggers"]["stsvend.server"] = {"handlers": ["stsvend"], "level": "WARNING",
                                           "propagate": False}  # fmt: skip
    return config


@contextmanager
def _metrics_dir(workers: int) -> Iterator[None]:
    """With several workers, a fresh folder where each writes its metrics for the others
    (stsvend.server.metrics); removed when the server ends."""
    if workers < 2:
        yield
        return
    folder = tempfile.mkdtemp(prefix="stsvend-metrics-")
    os.environ["STSVEND_METRICS_DIR"] = folder
    try:
        yield
    finally:
        os.environ.pop("STSVEND_METRICS_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


def _check_readable(path: str, setting: str) -> None:
    from stsvend.config import ConfigError

    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read {path}: {exc.strerror}") from None
