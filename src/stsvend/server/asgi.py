"""The application factory a server process calls: the installation named by the process's
configuration and environment (as the CLI reads them), one per worker process."""

from __future__ import annotations

from starlette.applications import Starlette

__all__ = ["app"]


def app() -> Starlette:
    """``uvicorn --factory stsvend.server.asgi:app``: open the store and keystore, build the app."""
    from stsvend.server.app import create_app
    from stsvend.services.bootstrap import open_from_environment

    return create_app(open_from_environment())
