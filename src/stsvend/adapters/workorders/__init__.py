"""Installation work orders' adapters: the XML files (:mod:`.xmlfile`), the drop, working,
done, rejected and results folders (:mod:`.folders`), the ``http-json`` route
(:mod:`.http_json`) and the ``workorders`` worker part (:mod:`.part`)."""

__all__ = ["folders", "http_json", "part", "xmlfile"]


def __getattr__(name: str) -> object:
    # The modules load when first named: listing the package imports none of them.
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
