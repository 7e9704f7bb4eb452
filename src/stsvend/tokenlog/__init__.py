"""The token log: append-only, keyed, hash-chained per meter, sealed; verify and export.

* :mod:`~stsvend.tokenlog.chain` — rows, the log key and MACs (sans-IO);
* :mod:`~stsvend.tokenlog.verify` — what verification finds (sans-IO);
* :mod:`~stsvend.tokenlog.writer` — append and seal inside a transaction;
* :mod:`~stsvend.tokenlog.reader` — verify the database, export CSV / JSON lines.

``docs/token-log.md`` states the threat model.
"""

__all__: list[str] = []
