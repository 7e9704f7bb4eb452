"""The vending services: each business operation is one database transaction.

Build a :class:`~stsvend.services.context.Services` (store, security module, log key,
configuration, clock, randomness), log an operator in (:func:`~stsvend.services.auth.login`),
and call the operations: :mod:`~stsvend.services.vend` (credit vend, trial, emergency credit,
free issue), :mod:`~stsvend.services.receipts` (reprint, reversal),
:mod:`~stsvend.services.engineering`, :mod:`~stsvend.services.keychange` (one meter or a whole
supply group), :mod:`~stsvend.services.registry` (supply groups, meters, customers, accounts),
:mod:`~stsvend.services.importing`, :mod:`~stsvend.services.reports`,
:mod:`~stsvend.services.logs` (token log export and verification), :mod:`~stsvend.services.keys`
(key file import, key listing, change of KEK).
"""

__all__: list[str] = []
