"""The token log: append-only, keyed, hash-chained per meter, sealed; verify and export.

* :mod:`~stsvend.tokenlog.chain` — rows, the log key and MACs (sans-IO);
* :mod:`~stsvend.tokenlog.records` — sale digests, operation-log MACs, statements (sans-IO);
* :mod:`~stsvend.tokenlog.verify` — what verification of a chain and the seals finds (sans-IO);
* :mod:`~stsvend.tokenlog.audit` — sales against their records, boundary, anchors (sans-IO);
* :mod:`~stsvend.tokenlog.heads` — chain heads, locked by whoever appends;
* :mod:`~stsvend.tokenlog.writer` — append and seal inside a transaction;
* :mod:`~stsvend.tokenlog.oplog` — the operation log's chains and the protection boundary;
* :mod:`~stsvend.tokenlog.verify_db` — verify the database (optionally against an anchor);
* :mod:`~stsvend.tokenlog.reader` — export CSV / JSON lines.

``docs/token-log.md`` states the threat model.
"""

__all__: list[str] = []
