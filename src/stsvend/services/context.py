"""The services' context: store, security module, log key, configuration, clock and randomness.

Every service takes a :class:`Services` and an :class:`Actor` (who is acting, where, in which
shift).  The clock and the random source are injected: tests pin them, the defaults are the real
UTC clock and the operating system's CSPRNG (:mod:`secrets`).

>>> from datetime import UTC, datetime
>>> from stsvend.config import load_config
>>> from stsvend.store.uow import Store
>>> fixed = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
>>> svc = Services(Store.open("sqlite://", create=True), load_config({"STSVEND_DATA_DIR": "/x"}),
...                clock=lambda: fixed)
>>> svc.now() == fixed, 0 <= svc.rnd() <= 15, len(svc.new_request_id())
(True, True, 32)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from attrs import frozen

from stsvend.config import Config
from stsvend.errors import StsError
from stsvend.keystore.module import SecurityModule
from stsvend.store.uow import Store
from stsvend.tokenlog.chain import LogKey

__all__ = ["Actor", "Random", "ServiceUnavailable", "Services", "utc_now"]


class ServiceUnavailable(StsError):
    """A service needs something this installation does not have yet (keys, log key)."""

    code = "config"
    default_message = "this installation is not set up for that yet"


class Random(Protocol):
    """The random source services use (``secrets`` by default)."""

    def randbelow(self, exclusive_upper_bound: int) -> int: ...

    def token_hex(self, nbytes: int | None = None) -> str: ...


class _SecretsRandom:
    def randbelow(self, exclusive_upper_bound: int) -> int:
        return secrets.randbelow(exclusive_upper_bound)

    def token_hex(self, nbytes: int | None = None) -> str:
        return secrets.token_hex(nbytes)


def utc_now() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(UTC)


@frozen
class Actor:
    """Who acts: an authenticated operator at a terminal, in a shift (if one is open).

    ``vendor_id``: the vendor whose terminal acts (a sale-point sale); its request ids are the
    vendor's own (:attr:`request_scope`).  None: the store's own counter.
    """

    operator_id: int
    username: str
    role: str
    terminal: str
    shift_id: int | None = None
    vendor_id: int | None = None

    @property
    def request_scope(self) -> int:
        """Where the actor's request ids are unique: 0 for the store's counters, else the
        vendor's id."""
        return 0 if self.vendor_id is None else self.vendor_id


class Services:
    """What every service needs; build one per process (it holds the engine's pool)."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        hsm: SecurityModule | None = None,
        log_key: LogKey | None = None,
        clock: Callable[[], datetime] = utc_now,
        rng: Random | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self._hsm = hsm
        self._log_key = log_key
        if log_key is not None:
            store.log_key = log_key
        self._clock = clock
        self.rng: Random = rng or _SecretsRandom()
        # Tariffs never change once stored (a new tariff gets a new code): cache them.
        self.tariff_cache: dict[int, object] = {}
        self.next_seal_check: datetime | None = None

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the services' clock must give timezone-aware datetimes")
        return now.astimezone(UTC)

    def rnd(self) -> int:
        """A random nibble for a token's RND field."""
        return self.rng.randbelow(16)

    def new_request_id(self) -> str:
        return self.rng.token_hex(16)

    @property
    def hsm(self) -> SecurityModule:
        if self._hsm is None:
            raise ServiceUnavailable(
                "no vending keys are loaded: import a key file (`stsvend keys import`) "
                "or run `stsvend demo`"
            )
        return self._hsm

    @property
    def has_hsm(self) -> bool:
        return self._hsm is not None

    @property
    def log_key(self) -> LogKey:
        if self._log_key is None:
            raise ServiceUnavailable("the token log key is not available (no keystore is open)")
        return self._log_key
