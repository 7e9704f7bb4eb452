"""Customer notices' adapters: the channels (``file``, ``smtp``, ``http-sms``), the CRM contact
lookup (``http``) and the ``notify`` worker part that produces and sends notices.

The services (:mod:`stsvend.services.notices`) define what a channel and a lookup must offer;
these modules implement it over files, SMTP and HTTP.
"""

__all__ = ["crm_contacts", "file_channel", "settings", "sms_channel", "smtp_channel", "worker"]


def __getattr__(name: str) -> object:
    # The modules load when first named: listing the package imports none of them.
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
