"""The sale-point server: vendors' terminals call the vending services over HTTP.

An ASGI application (:mod:`stsvend.server.app`) on a production server (uvicorn, several
worker processes), installed with the ``server`` extra; ``import stsvend`` loads none of it.
docs/server.md says how to run it, docs/api.md what a vendor's system sends.
"""

__all__: list[str] = []
