"""``stsvend adapters``: the plug-in adapters installed, and whether each is configured.

``stsvend adapters list [--group GROUP] [--json]`` shows every adapter found through the entry
points of :mod:`stsvend.adapters.registry`: its group and name, the package it comes from, and
``ready``, ``not configured (needs: …)`` or ``broken: …``.  It opens no store.
"""

from __future__ import annotations

import json

import click

from stsvend_cli.common import load_config

__all__ = ["adapters"]


@click.group()
def adapters() -> None:
    """Plug-in adapters: CRM, work orders, billing, notices, meters, worker parts."""


@adapters.command("list")
@click.option("--group", metavar="GROUP", help="Only this group (crm, workorder, billing, …).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def list_adapters(group: str | None, as_json: bool) -> None:
    """List the installed adapters and whether each is ready to use."""
    from attrs import asdict

    from stsvend.adapters.registry import GROUPS, installed

    config = load_config()
    found = installed(config.adapter_settings, group)
    if as_json:
        click.echo(json.dumps({"adapters": [asdict(a) for a in found]}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    if found:
        table = Table("group", "name", "package", "status", "what it does", box=None)
        for info in found:
            table.add_row(info.group, info.name, f"{info.distribution} {info.version}",
                          info.status, info.description)  # fmt: skip
        Console().print(table)
    empty = sorted(set(GROUPS if group is None else [group]) - {a.group for a in found})
    if empty:
        click.echo(f"no adapters installed in: {', '.join(empty)}")
