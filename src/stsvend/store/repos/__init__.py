"""Repositories: the queries of each concept, over an open connection (the caller's transaction).

Reads return frozen records; writes take plain values.  ``lock=True`` reads take a row lock
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write lock is already held by ``BEGIN
IMMEDIATE``), so that a decision made on the row stays true until the transaction commits.
"""

__all__: list[str] = []
