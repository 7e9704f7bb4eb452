"""The ``notify`` worker part: each round produces notices, sends the due ones, purges daily.

Settings (``[adapters.worker.notify]``, all optional):

========================  ======================================================  =========
key                       what                                                    default
========================  ======================================================  =========
``channels``              channels every notice goes out on                       ["file"]
``contacts``              the contact lookup adapter (``http``)                   none
``max_attempts``          attempts before a notice is a dead letter               8
``backoff_seconds``       wait after the first failed attempt (doubles)           60
``max_backoff_seconds``   the longest wait between attempts                       3600
``lease_seconds``         how long a claimed notice is its sender's               300
``batch``                 notices sent per round at most                          50
``retention_days``        sent notices' text is purged after this many days       30
``low_credit_days``       a purchase this old makes a low-credit reminder         30
``templates_dir``         a folder of templates (``LANG/KIND.txt``) to use first  none
``interval_seconds``      the wait after a round with nothing to do               30
========================  ======================================================  =========

>>> policy_of({"max_attempts": 3, "backoff_seconds": 1}).max_attempts
3
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stsvend.adapters.notify.settings import number, text
from stsvend.adapters.registry import AdapterError, load
from stsvend.services.context import Actor, Services
from stsvend.services.notices.delivery import DeliveryRound, deliver
from stsvend.services.notices.model import Channel, ContactLookup
from stsvend.services.notices.outbox import RetryPolicy, purge_daily
from stsvend.services.notices.producer import DEFAULT_CHANNELS, scan

__all__ = ["Notifier", "build", "factory", "policy_of"]


def policy_of(settings: Mapping[str, Any]) -> RetryPolicy:
    attempts = int(number(settings, "max_attempts", 8))
    if attempts < 1:
        raise AdapterError("setting max_attempts must be 1 or more")
    return RetryPolicy(
        max_attempts=attempts,
        backoff_seconds=float(number(settings, "backoff_seconds", 60)),
        max_backoff_seconds=float(number(settings, "max_backoff_seconds", 3600)),
        lease_seconds=float(number(settings, "lease_seconds", 300)),
    )


class Notifier:
    """Produces, sends and purges notices (a :class:`~stsvend.adapters.worker.WorkerPart`)."""

    name = "notify"

    def __init__(self, svc: Services, channels: Mapping[str, Channel],
                 lookup: ContactLookup | None, settings: Mapping[str, Any]) -> None:  # fmt: skip
        self.svc = svc
        self.channels = dict(channels)
        self.lookup = lookup
        self.policy = policy_of(settings)
        self.batch = int(number(settings, "batch", 50))
        self.retention_days = int(number(settings, "retention_days", 30))
        self.low_credit_days = int(number(settings, "low_credit_days", 30))
        self.interval_seconds = float(number(settings, "interval_seconds", 30))
        folder = settings.get("templates_dir")
        self.templates = Path(text(settings, "templates_dir")).expanduser() if folder else None
        self.last_round = DeliveryRound()

    def produce(self) -> int:
        return scan(self.svc, tuple(self.channels), low_credit_days=self.low_credit_days)

    def send(self) -> DeliveryRound:
        self.last_round = deliver(self.svc, self.channels, self.lookup, self.policy,
                                  templates=self.templates, limit=self.batch)  # fmt: skip
        return self.last_round

    def run_once(self) -> int:
        added = self.produce()
        sent = self.send()
        purge_daily(self.svc, self.retention_days)
        return added + sent.handled

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()
        if self.lookup is not None:
            self.lookup.close()


def build(svc: Services, settings: Mapping[str, Any]) -> Notifier:
    """The notifier ``settings`` describe, its channels and lookup built from their tables."""
    names = settings.get("channels", list(DEFAULT_CHANNELS))
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise AdapterError("[adapters.worker.notify] channels is a list of channel names")
    config = svc.config
    channels: dict[str, Channel] = {}
    lookup: ContactLookup | None = None
    try:
        for name in names:
            try:
                channels[name] = load("notify", name)(config.adapter_settings("notify", name) or {})
            except AdapterError as exc:
                raise AdapterError(f"[adapters.notify.{name}]: {exc.message}") from None
        contacts = settings.get("contacts")
        if contacts is not None:
            name = text(settings, "contacts")
            try:
                lookup = load("contacts", name)(config.adapter_settings("contacts", name) or {})
            except AdapterError as exc:
                raise AdapterError(f"[adapters.contacts.{name}]: {exc.message}") from None
        return Notifier(svc, channels, lookup, settings)
    except BaseException:
        for channel in channels.values():
            channel.close()
        if lookup is not None:
            lookup.close()
        raise


def factory(svc: Services, actor: Actor, settings: Mapping[str, Any]) -> Notifier:
    """The worker part (``actor`` is not needed: notices act for no operator)."""
    return build(svc, settings)


factory.description = "customer notices: produce, send with retries, purge"  # type: ignore[attr-defined]
