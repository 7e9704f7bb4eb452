"""Commissioning key changes for many new meters at once (a CRM import's new meters).

A meter that arrives on its default key (KT 1) gets a pending key change to its unique key,
as :func:`stsvend.services.registry.add_meter` makes for one meter with ``default_key``: the
same key data (:func:`commissioning_keys`), the same key change rows and token log rows
(:mod:`.changeset`), here for a whole batch in the caller's transaction with one bulk insert
each.  The plan is made once per distinct key data; the tokens once per meter.

>>> from stsvend.store.repos.groups import SupplyGroupRecord
>>> group = SupplyGroupRecord(1, 123456, "Demo", 2, 1, "02", "07", 2014, 255, True)
>>> default, unique = commissioning_keys(group)
>>> int(default.key_type), int(unique.key_type), default.krn == unique.krn
(1, 2, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from stsvend import sts
from stsvend.services.context import Actor, Services
from stsvend.services.keychange.changeset import KEY_CHANGE_CLASS, Shape, row, shape, tokens
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos.groups import SupplyGroupRecord
from stsvend.store.repos.meters import MeterRecord
from stsvend.tokenlog.writer import append_values
from stsvend.vending.key_change import KeyChangePlan, plan_key_change
from stsvend.vending.tokenspec import TokenPurpose

__all__ = ["NOTE", "commission_meters", "commissioning_keys"]

#: The token log's note on a commissioning key change's tokens.
NOTE = "commissioning: default key to unique key"


def commissioning_keys(
    group: SupplyGroupRecord,
    *,
    ti: int = 1,
    default_sgc: int | None = None,
    default_krn: int | None = None,
) -> tuple[sts.KeyData, sts.KeyData]:
    """(the default key data a new meter arrives on, the unique key data it is changed to)."""
    unique = sts.KeyData(
        sgc=group.sgc, ti=ti, krn=group.krn, key_type=group.key_type, ea=group.ea,
        base_date=group.base_date, ken=group.ken,
    )  # fmt: skip
    default = sts.KeyData(
        sgc=group.sgc if default_sgc is None else default_sgc,
        ti=ti,
        krn=group.krn if default_krn is None else default_krn,
        key_type=sts.KeyType.DDTK,
        ea=group.ea,
        base_date=group.base_date,
        ken=group.ken,
    )
    return default, unique


def commission_meters(
    svc: Services,
    conn: Any,
    actor: Actor,
    meters: Sequence[tuple[MeterRecord, sts.KeyData]],
    *,
    request_id: str,
    now: datetime,
) -> int:
    """Make a pending commissioning key change for each (meter on its default key, its unique
    key data), with its tokens in the token log; returns how many."""
    rows: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    common = {
        "seq": 0, "at": now, "event": "token", "purpose": TokenPurpose.KEY_CHANGE.value,
        "request_id": request_id, "operator": actor.username, "terminal": actor.terminal,
        "test": svc.hsm.test, "sale_id": None, "token_class": KEY_CHANGE_CLASS,
        "base_date": None, "tid": None, "amount": None, "ref_seq": None, "note": NOTE,
    }  # fmt: skip
    plans: dict[tuple[sts.KeyData, sts.KeyData], tuple[KeyChangePlan, Shape]] = {}
    for meter, unique in meters:
        current = meter.key_data
        planned = plans.get((current, unique))
        if planned is None:
            plan = plan_key_change(current, unique, now=now)
            svc.hsm.key_record_for(unique)  # the unique key must be in the keystore
            planned = plans[(current, unique)] = (plan, shape(plan))
        plan, shaped = planned
        pairs, kcv = tokens(svc, meter, plan, shaped)
        rows.append(row(meter, shaped, pairs, kcv, now, None))
        sgc, krn, ti = current.sgc, current.krn, current.ti
        entries.extend(
            {**common, "chain": meter.drn, "meter": meter.drn, "subclass": s, "sgc": sgc,
             "krn": krn, "ti": ti, "kcv": kcv, "digits": d}
            for d, s in pairs
        )  # fmt: skip
    kc.add_key_changes(conn, rows)
    append_values(conn, svc.log_key, entries)
    return len(rows)
