"""The ``workorders`` worker part as ``stsvend worker`` loads it (its entry point), the outbox's
crash window (a delivery not recorded is delivered again with the same message id), and the
backoff's shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.services.context import Actor, Services
from stsvend.services.workorders import (
    OrderInput,
    RetryPolicy,
    deliver_due,
    route_handler,
    set_route,
    take_in,
)
from stsvend.store.repos.workorders import MessageRecord
from tests.cli.conftest import PINS, Cli
from tests.workorders.support import Receiver, configure, drop, new_meter, single


@contextmanager
def engineer(cli: Cli) -> Iterator[tuple[Services, Actor]]:
    from stsvend.config import load_config
    from stsvend.services import auth
    from stsvend.services.bootstrap import open_services

    env = cli.base_env(None)
    svc = open_services(load_config(env), env=env)
    try:
        yield svc, auth.login(svc, "engineer", PINS["engineer"])
    finally:
        svc.store.dispose()


def test_the_part_is_found_through_its_entry_point(cli: Cli, tmp_path: Path) -> None:
    from stsvend.adapters import registry
    from stsvend.adapters.worker import WorkerPart

    folders = configure(cli, tmp_path / "wo", retry_base_seconds=0, interval_seconds=1)
    [info] = [a for a in registry.installed(lambda g, n: {"drop": "x"}, "worker")
              if a.name == "workorders"]  # fmt: skip
    assert info.name == "workorders" and "needs: working" in info.status
    with engineer(cli) as (svc, eng), Receiver() as rx:
        factory = registry.load("worker", "workorders")
        part = factory(svc, eng, svc.config.adapter_settings("worker", "workorders"))
        assert isinstance(part, WorkerPart)
        assert (part.name, part.interval_seconds) == ("workorders", 1.0)
        set_route(svc, eng, "installation", rx.url)
        drop(folders, "a.xml", single("WO-1", meter=new_meter(1)))
        assert part.run_once() == 2  # the file, then its routed order
        assert part.run_once() == 0
        assert rx.ids() == ["WO-1/v1/route"]
        part.close()


@pytest.mark.parametrize("settings", [
    {"drop": "/x"},
    {"drop": "/a", "working": "/b", "done": "/c", "rejected": "/d", "results": "/e",
     "max_attempts": 0},
    {"drop": "/a", "working": "/b", "done": "/c", "rejected": "/d", "results": "/e",
     "interval_seconds": "soon"},
])  # fmt: skip
def test_bad_settings_are_refused(cli: Cli, settings: dict[str, object]) -> None:
    from stsvend.adapters.registry import AdapterError
    from stsvend.adapters.workorders.http_json import factory as route_factory
    from stsvend.adapters.workorders.part import factory

    with engineer(cli) as (svc, eng), pytest.raises(AdapterError):
        factory(svc, eng, settings)
    with pytest.raises(AdapterError, match="timeout_seconds"):
        route_factory({"timeout_seconds": 0})


def test_a_delivery_not_recorded_is_delivered_again_with_its_id(cli: Cli) -> None:
    from stsvend.adapters.workorders.http_json import factory as route_factory

    transport = route_factory({})
    with engineer(cli) as (svc, eng), Receiver() as rx:
        set_route(svc, eng, "installation", rx.url)
        take_in(svc, eng, [OrderInput("WO-1", "installation", meter=new_meter(1),
                                      model="LG-E470", sgc=123456)], source="a.xml")
        send = route_handler(svc, lambda _name: transport)

        def crash_after_sending(message: MessageRecord) -> None:
            send(message)
            raise KeyboardInterrupt  # the worker stops before it records the delivery

        lease = RetryPolicy(lease_seconds=0.5)
        with pytest.raises(KeyboardInterrupt):
            deliver_due(svc, eng, ("route",), crash_after_sending, policy=lease)
        assert deliver_due(svc, eng, ("route",), send, policy=lease).handled == 0  # leased
        time.sleep(0.6)
        assert deliver_due(svc, eng, ("route",), send, policy=lease).delivered == 1
        assert rx.ids() == ["WO-1/v1/route", "WO-1/v1/route"]  # the receiver deduplicates
        assert deliver_due(svc, eng, ("route",), send, policy=lease).handled == 0
    transport.close()


@given(st.floats(0, 100), st.floats(0, 10_000), st.integers(1, 60))
def test_the_backoff_doubles_up_to_its_cap(base: float, cap: float, attempts: int) -> None:
    policy = RetryPolicy(base_seconds=base, max_seconds=cap)
    assert 0 <= policy.delay(attempts) <= cap
    assert policy.delay(attempts) <= policy.delay(attempts + 1)
    if base * 2 ** attempts <= cap:
        assert policy.delay(attempts + 1) == pytest.approx(2 * policy.delay(attempts))
