"""The plug-in registry: adapters found through Python entry points, group by group.

Each group is an entry-point group ``stsvend.<group>``; an entry point's name is the adapter's
name (``stsvend billing export --format mscons`` names the ``mscons`` exporter) and its object is
the adapter's factory.  A factory may say what it is and what it needs:

* ``description``: one line for ``stsvend adapters list``;
* ``settings_required``: the keys its ``[adapters.GROUP.NAME]`` table must hold (none: it works
  as installed).

>>> sorted(GROUPS)[:3]
['billing', 'contacts', 'control']
>>> GROUPS["notify"].entry_point_group
'stsvend.notification_channels'
>>> load("nosuchgroup", "x")
Traceback (most recent call last):
...
stsvend.adapters.registry.AdapterError: no adapter group 'nosuchgroup' (groups: billing, ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from attrs import frozen

from stsvend.errors import StsError

__all__ = [
    "GROUPS", "AdapterError", "AdapterInfo", "Group", "configured", "installed", "load", "make",
]


class AdapterError(StsError):
    """No such adapter, or one that cannot be loaded or is not configured."""

    code = "adapter"
    default_message = "the adapter cannot be used"


@frozen
class Group:
    """One kind of adapter: its short name (the configuration's and the CLI's), its entry-point
    group, and what its adapters do."""

    name: str
    entry_point_group: str
    purpose: str


GROUPS: Mapping[str, Group] = {
    g.name: g
    for g in (
        Group("crm", "stsvend.crm_importers", "CRM master-data formats (stsvend crm import)"),
        Group("workorder", "stsvend.workorder_routes", "installers' systems work orders go to"),
        Group("billing", "stsvend.billing_exporters", "billing export formats"),
        Group("notify", "stsvend.notification_channels", "channels notices are sent through"),
        Group("contacts", "stsvend.contact_lookups", "CRM contact lookups at send time"),
        Group("meter", "stsvend.meter_transports", "links that deliver tokens to a meter"),
        Group("worker", "stsvend.workers", "long-running parts of stsvend worker"),
        Group("control", "stsvend.meter_controls", "remote disconnect and reconnect of a meter"),
    )
}


@frozen
class AdapterInfo:
    """One installed adapter: where it comes from and whether it is ready to use.

    ``status`` is ``ready`` (configured, or needing no settings), ``not configured (needs:
    host, port)`` or ``broken: …`` (its module does not load).
    """

    group: str
    name: str
    target: str
    distribution: str
    version: str
    description: str
    status: str


def _group(name: str) -> Group:
    try:
        return GROUPS[name]
    except KeyError:
        raise AdapterError(
            f"no adapter group {name!r} (groups: {', '.join(sorted(GROUPS))})"
        ) from None


def _entry_points(group: Group) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group.entry_point_group):
        found.setdefault(ep.name, ep)  # the first installed wins, as importlib orders them
    return found


def load(group: str, name: str) -> Any:
    """The factory of adapter ``name`` in ``group`` (an :class:`AdapterError` names the ones
    that are installed when there is no such adapter)."""
    grp = _group(group)
    eps = _entry_points(grp)
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise AdapterError(f"no {group} adapter {name!r} ({known})")
    try:
        return eps[name].load()
    except Exception as exc:  # a third party's import error is that adapter's, not ours
        raise AdapterError(f"the {group} adapter {name!r} does not load: {exc}") from None


def make(group: str, name: str, settings: Mapping[str, Any] | None, kind: Any, what: str) -> Any:
    """Adapter ``name`` of ``group`` made with its settings: refused (AdapterError) when it is
    not configured, or when what its factory makes is not a ``kind`` (``what`` names it)."""
    factory = load(group, name)
    status = configured(factory, settings)
    if status != "ready":
        raise AdapterError(f"the {group} adapter {name!r} is {status}")
    made = factory(dict(settings or {}))
    if not isinstance(made, kind):
        raise AdapterError(f"the {group} adapter {name!r} is not {what}")
    return made


def configured(factory: Any, settings: Mapping[str, Any] | None) -> str:
    """``ready`` or ``not configured (needs: …)`` for a factory and its settings table."""
    needed = tuple(getattr(factory, "settings_required", ()))
    missing = [key for key in needed if key not in (settings or {})]
    return "ready" if not missing else f"not configured (needs: {', '.join(missing)})"


def installed(
    settings_of: Any = None, group: str | None = None
) -> tuple[AdapterInfo, ...]:
    """Every installed adapter (of ``group``, or all), sorted by group and name.

    ``settings_of(group, name)`` gives an adapter's settings table (``Config.adapter_settings``);
    without it, status tells only whether the adapter loads and needs settings.
    """
    groups = [_group(group)] if group is not None else [GROUPS[g] for g in sorted(GROUPS)]
    out = []
    for grp in groups:
        for name, ep in sorted(_entry_points(grp).items()):
            dist = ep.dist
            try:
                factory = ep.load()
            except Exception as exc:  # listed as broken, the others still listed
                status, description = f"broken: {type(exc).__name__}: {exc}", ""
            else:
                description = str(getattr(factory, "description", "")).strip()
                table = settings_of(grp.name, name) if settings_of is not None else None
                status = configured(factory, table)
            out.append(AdapterInfo(
                group=grp.name, name=name, target=ep.value,
                distribution=dist.metadata["Name"] if dist is not None else "?",
                version=dist.version if dist is not None else "?",
                description=description, status=status,
            ))  # fmt: skip
    return tuple(out)
