"""The utility's identity, kept in the store: its name, tax number, currency and time zone.

``stsvend init`` records them in the store's settings (``utility.name``, ``utility.tax_number``,
``utility.currency``, ``utility.timezone``).  From then on the store is their one source: every
receipt prints its utility and tax number, every amount is in its currency and every day,
month and shift is cut in its time zone.  A configuration file or ``STSVEND_*`` variable that
gives another value is refused when the store is opened (:func:`apply_identity`), never used:
the same store would otherwise print two utilities, or sell in two currencies.

The TEST demo store records the demo's identity (:data:`DEMO_IDENTITY`) and is marked as the
demo's (``utility.demo``); a store set up by ``init`` never is, so it never prints the demo's
name or tax number.

Name and tax number may be corrected at any time.  Currency and time zone may not, once the
store holds a token: amounts already sold would change currency, and days and months already
reported would be cut again (docs/operations.md, *The utility's identity*).

>>> from stsvend.config import load_config
>>> ident = UtilityIdentity.parse("City Power", "VAT-4012345678", "ZAR", "Africa/Johannesburg")
>>> apply_identity(load_config({"STSVEND_DATA_DIR": "/x"}), ident).currency
'ZAR'
>>> try:
...     apply_identity(load_config({"STSVEND_DATA_DIR": "/x", "STSVEND_CURRENCY": "USD"}), ident)
... except IdentityConflict as exc:
...     print(exc.message.split(" (")[0])
STSVEND_CURRENCY=USD contradicts this store's currency ZAR
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import evolve, frozen
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from stsvend.config import Config, ConfigError
from stsvend.errors import InputError, StsError

__all__ = [
    "DEMO_IDENTITY",
    "FIELDS",
    "IdentityChangeRefused",
    "IdentityConflict",
    "UtilityIdentity",
    "apply_identity",
    "has_tokens",
    "is_demo_store",
    "read_identity",
    "record_identity",
    "write_identity",
]

#: Identity settings: the Config attribute, its setting in the store, and what it is called.
FIELDS = (
    ("utility_name", "utility.name", "utility name"),
    ("tax_number", "utility.tax_number", "tax number"),
    ("currency", "utility.currency", "currency"),
    ("timezone", "utility.timezone", "time zone"),
)
_DEMO_SETTING = "utility.demo"
_MAX_TEXT = 80


class IdentityConflict(ConfigError):
    """A configuration value contradicts the utility identity kept in the store."""

    default_message = "the configuration contradicts the utility identity kept in the store"


class IdentityChangeRefused(StsError):
    """The currency or time zone of a store that already holds tokens cannot change."""

    code = "refused"
    default_message = "the store's currency and time zone are fixed once it holds a token"


def _text(value: str, what: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InputError(f"the {what} must not be empty")
    if len(text) > _MAX_TEXT or not text.isprintable():
        raise InputError(f"the {what} is printable text of at most {_MAX_TEXT} characters")
    return text


@frozen
class UtilityIdentity:
    """Who sells: printed on every receipt, and the currency and calendar of every sale."""

    #: The utility's name, printed on every receipt.
    utility_name: str
    #: Its tax (VAT) number, printed on every receipt.
    tax_number: str
    #: The ISO 4217 code of every amount (fixed once the store holds a token).
    currency: str
    #: The IANA time zone that cuts days, months and shifts (fixed likewise).
    timezone: str

    @classmethod
    def parse(
        cls, utility_name: str, tax_number: str, currency: str, timezone: str
    ) -> UtilityIdentity:
        """Check each value (an :class:`~stsvend.errors.InputError` names the bad one)."""
        from stsvend.vending.money import Money

        code = _text(currency, "currency").upper()
        try:
            Money.parse("0", code)
        except StsError as exc:
            raise InputError(exc.message) from None
        zone = _text(timezone, "time zone")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise InputError(
                f"unknown time zone {zone!r} (an IANA name such as Africa/Johannesburg)"
            ) from None
        return cls(_text(utility_name, "utility name"), _text(tax_number, "tax number"), code, zone)

    def as_dict(self) -> dict[str, str]:
        return {attr: getattr(self, attr) for attr, _, _ in FIELDS}


#: The TEST demo store's identity (``stsvend demo``); never a production store's.
DEMO_IDENTITY = UtilityIdentity("Demo Utility", "TAX-000000", "USD", "UTC")


def read_identity(conn: Connection) -> UtilityIdentity | None:
    """The identity kept in the store (None: a store set up before it was kept)."""
    from stsvend.store.repos.settings import get_setting

    values = [get_setting(conn, setting) for _, setting, _ in FIELDS]
    if any(v is None for v in values):
        return None
    return UtilityIdentity(*(str(v) for v in values))


def is_demo_store(conn: Connection) -> bool:
    from stsvend.store.repos.settings import get_setting

    return get_setting(conn, _DEMO_SETTING) == "1"


def has_tokens(conn: Connection) -> bool:
    """Whether the store's token log holds anything (a sale, a key change, any token)."""
    from stsvend.store.log_models import TokenLog

    return bool(conn.execute(select(func.count()).select_from(TokenLog)).scalar())


def write_identity(conn: Connection, identity: UtilityIdentity, *, demo: bool = False) -> None:
    """Keep ``identity`` in the store, refusing a new currency or time zone once it holds a
    token (the caller logs the change)."""
    from stsvend.store.repos.settings import put_setting

    stored = read_identity(conn)
    if stored is not None and has_tokens(conn):
        for attr, _, what in FIELDS[2:]:
            old, new = getattr(stored, attr), getattr(identity, attr)
            if old != new:
                raise IdentityChangeRefused(
                    f"the store already holds tokens sold in {what} {old}: changing it to {new} "
                    "would regroup the days, months and shifts already reported (see "
                    "docs/operations.md, The utility's identity)"
                )
    for attr, setting, _ in FIELDS:
        put_setting(conn, setting, getattr(identity, attr))
    if demo:
        put_setting(conn, _DEMO_SETTING, "1")


def apply_identity(config: Config, identity: UtilityIdentity | None) -> Config:
    """``config`` with the store's identity; a given value that contradicts it is refused."""
    if identity is None:
        return config
    for attr, _, what in FIELDS:
        kept = getattr(identity, attr)
        given = getattr(config, attr)
        source = config.source_of(attr)
        if source is None or given == kept:
            continue
        env = source.startswith("STSVEND_")
        where = f"{source}={given}" if env else f"{attr} = {given!r} in {source}"
        fix = f"remove {source}" if env else f"remove {attr} from {source}"
        raise IdentityConflict(
            f"{where} contradicts this store's {what} {kept} (kept in the store: see "
            f"docs/operations.md, The utility's identity): {fix}, or set it to {kept}"
        )
    return _with(config, identity)


def _with(config: Config, identity: UtilityIdentity) -> Config:
    return evolve(
        config,
        utility_name=identity.utility_name,
        tax_number=identity.tax_number,
        currency=identity.currency,
        timezone=identity.timezone,
    )


def record_identity(svc: Any, operator: str, identity: UtilityIdentity) -> UtilityIdentity | None:
    """Keep ``identity`` in ``svc``'s store (``stsvend init``) and log it; returns what was kept
    before (None: nothing).  The TEST demo store keeps the demo's identity."""
    from stsvend.store.repos.oplog import log_operation

    with svc.store.transaction() as conn:
        if is_demo_store(conn):
            raise IdentityChangeRefused(
                "this is the TEST demo store: `stsvend init` sets up a real store in another "
                "data directory (STSVEND_DATA_DIR)"
            )
        before = read_identity(conn)
        if before == identity:
            return before
        write_identity(conn, identity)
        log_operation(conn, at=svc.now(), operator=operator, terminal=svc.config.terminal,
                      action="utility.set", detail=identity.as_dict())  # fmt: skip
    svc.config = _with(svc.config, identity)
    return before
