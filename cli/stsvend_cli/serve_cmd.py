"""``stsvend serve``: the sale-point server (docs/server.md)."""

from __future__ import annotations

import click

__all__ = ["serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")  # fmt: skip
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (PostgreSQL only: SQLite has one writer).")  # fmt: skip
def serve(host: str, port: int, workers: int) -> None:
    """Run the sale-point server: vendors' terminals buy tokens over HTTP.

    The store, keystore and configuration are the CLI's own (STSVEND_* and the TOML file).
    Needs the server extra: pip install 'stsvend[server]'.
    """
    from stsvend.config import load_config
    from stsvend.errors import InputError
    from stsvend.store.engine import is_sqlite

    config = load_config()
    if workers > 1 and is_sqlite(config.database_url):
        raise InputError("SQLite serves one worker: use --workers 1, or PostgreSQL for more")
    try:
        import uvicorn
    except ImportError:
        raise InputError("the server is not installed: pip install 'stsvend[server]'") from None
    click.echo(f"stsvend sale-point server on http://{host}:{port} ({workers} worker(s))")
    uvicorn.run("stsvend.server.asgi:app", factory=True, host=host, port=port,
                workers=workers, log_level="warning", timeout_graceful_shutdown=30)  # fmt: skip
