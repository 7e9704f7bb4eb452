"""The vending services: each business operation is one database transaction.

Build a :class:`~stsvend.services.context.Services` (store, security module, log key,
configuration, clock, randomness), log an operator in (:func:`~stsvend.services.auth.login`),
and call the operations: :mod:`~stsvend.services.vend` (credit vend, trial, emergency credit,
free issue), :mod:`~stsvend.services.receipts` (reprint, reversal),
:mod:`~stsvend.services.engineering`, :mod:`~stsvend.services.keychange` (one meter or a whole
supply group), :mod:`~stsvend.services.registry` (supply groups, meters, customers, accounts),
:mod:`~stsvend.services.importing`, :mod:`~stsvend.services.reports`,
:mod:`~stsvend.services.logs` (token log export and verification), :mod:`~stsvend.services.keys`
(key file import, key listing, change of KEK), :mod:`~stsvend.services.vendors` and
:mod:`~stsvend.services.terminals` (vendors, floats, terminal keys).  Every answer is a frozen
attrs value with documented fields (a receipt-bearing operation answers with a typed receipt,
:mod:`~stsvend.services.receipt_model`); :func:`stsvend.services.results.as_doc` gives its JSON
form.

The modules named in ``__all__`` are the embedding API (docs/library.md, *Embedding the vending
services*): within a major version their public functions only gain parameters and their
answers only gain fields; anything to be removed is first deprecated (``DeprecationWarning`` and
the changelog) for at least one minor version.  The services are synchronous: an asynchronous
server calls them from its thread pool.
"""

__all__ = [
    "auth",
    "context",
    "counter",
    "engineering",
    "grants",
    "importing",
    "keychange",
    "keys",
    "logs",
    "operations",
    "receipt_model",
    "receipts",
    "registry",
    "reports",
    "results",
    "shifts",
    "tariffs",
    "terminals",
    "vend",
    "vendors",
]


def __getattr__(name: str) -> object:
    # The modules load when first named (``stsvend.services.vend``), so that importing the
    # package costs nothing and ``from stsvend.services import *`` still finds every module.
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
