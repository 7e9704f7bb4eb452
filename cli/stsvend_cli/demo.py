"""``stsvend demo``: a credit token for the published test meter, decoded back (TEST keys).

First version: derives the demo meter's decoder key from the published DKGA02 test vending key,
makes a credit token with a TID from the current UTC minute and a random RND, decodes it and
prints both.  Everything here uses TEST keys and is marked so.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import click

__all__ = ["demo"]

# The published IEC 62055-41 test vending key and the demo meter (sts-reference.md).
_TEST_VENDING_KEY = "abababababababab"
_DEMO_IIN = "600727"
_DEMO_DRN = "01234567897"
_DEMO_KWH_TENTHS = 250  # 25.0 kWh


@click.command()
def demo() -> None:
    """Vend a TEST credit token to the demo meter and decode it back."""
    from rich.console import Console
    from rich.table import Table

    from stsvend import sts

    console = Console()
    meter = sts.MeterIdentity.parse(_DEMO_IIN, _DEMO_DRN)
    # The 1993 base date ran out in November 2024: today's TIDs count from 2014.
    data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=sts.BaseDate.Y2014)
    key = sts.derive_decoder_key(bytes.fromhex(_TEST_VENDING_KEY), meter, data, "02")
    tid = sts.vendable_tid(sts.tid_at(datetime.now(UTC), data.base_date))
    token = sts.credit_token(
        key, sts.Resource.ELECTRICITY, _DEMO_KWH_TENTHS, tid=tid, rnd=secrets.randbelow(16)
    )
    decoded = sts.decode_token(token, key)

    console.print("[bold red]TEST[/] demo keyset: published test keys, not for real meters")
    table = Table(title="TEST credit token")
    table.add_column("field")
    table.add_column("value")
    table.add_row("meter", f"{meter.iin} {meter.drn}")
    table.add_row("SGC / TI / KRN", f"{data.sgc:06d} / {data.ti:02d} / {data.krn}")
    table.add_row("token", " ".join(token[i : i + 4] for i in range(0, 20, 4)))
    table.add_row("class / subclass", f"{decoded.token_class} / {decoded.subclass}")
    table.add_row("TID", str(decoded.fields["tid"]))
    tenths = sts.decode_amount(decoded.fields["amount_field"])
    table.add_row("units", f"{tenths // 10}.{tenths % 10} kWh")
    console.print(table)
