"""Adapters: the edges to the systems a utility already runs, as plug-ins.

An adapter is found through a Python entry point in one of the groups of
:data:`~stsvend.adapters.registry.GROUPS` (CRM importers, work-order routes, billing exporters,
notification channels, contact lookups, meter transports, worker parts); a third party adds one
by installing a package that declares it.  Adapters call the services; the services never import
an adapter.  Their settings are the configuration file's ``[adapters.GROUP.NAME]`` tables.
"""

__all__ = ["control", "registry", "runner", "telemetry", "worker"]


def __getattr__(name: str) -> object:
    # The modules load when first named: listing the package imports none of them.
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
