"""CRM master-data importers (entry-point group ``stsvend.crm_importers``): ``csv``, ``isu``
and ``ise``, each a column mapping over one streaming CSV reader.

They parse and map the rows; :func:`stsvend.services.crm.import_crm` checks and applies them.
"""

__all__ = ["formats", "mapping", "source"]


def __getattr__(name: str) -> object:
    # The modules load when first named: listing the package imports none of them.
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
