"""Customer notices: receipts, low credit, emergency credit, key changes, debt, work orders.

A producer (:mod:`~stsvend.services.notices.producer`) scans what happened since its watermark
and puts notices in the store's outbox (:mod:`~stsvend.services.notices.outbox`), one per event
and channel under a stable message id; :mod:`~stsvend.services.notices.delivery` sends them
through the channels, looking each customer's contact up in the CRM at send time.  The sale
itself never waits for any of it.
"""

__all__ = ["contacts", "delivery", "model", "outbox", "producer", "templates"]


def __getattr__(name: str) -> object:
    # The modules load when first named, as stsvend.services' do.
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
