"""The worker runner's pacing, backoff, health and stop, with an injected clock; and the
adapters' settings tables of the configuration file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stsvend.adapters.registry import AdapterError, configured, installed, load
from stsvend.adapters.runner import FAILING_AFTER, MAX_BACKOFF, Runner
from stsvend.config import ConfigError, load_config


class Flaky:
    """Fails ``failures`` rounds, then handles one item a round for ``items`` rounds."""

    interval_seconds = 10.0

    def __init__(self, name: str, failures: int, items: int = 0) -> None:
        self.name, self.failures, self.items = name, failures, items
        self.closed = 0
        self.calls: list[float] = []

    def run_once(self) -> int:
        self.calls.append(CLOCK[0])
        if self.failures:
            self.failures -= 1
            raise OSError("the gateway is down")
        if self.items:
            self.items -= 1
            return 1
        return 0

    def close(self) -> None:
        self.closed += 1
        if self.name == "bad-close":
            raise RuntimeError("cannot close")


CLOCK = [0.0]


def _runner(*parts: Flaky, log: list[str]) -> Runner:
    CLOCK[0] = 0.0

    def sleep(seconds: float) -> None:
        CLOCK[0] += seconds

    return Runner(list(parts), clock=lambda: CLOCK[0], sleep=sleep, log=log.append)


def test_failures_back_off_doubling_up_to_the_cap_then_the_part_recovers() -> None:
    log: list[str] = []
    part = Flaky("gw", failures=7, items=1)
    runner = _runner(part, log=log)
    runner.run(rounds=FAILING_AFTER)
    assert runner.health()["status"] == "failing"
    assert runner.health()["parts"]["gw"]["last_error"] == "OSError: the gateway is down"
    runner.run(rounds=4)
    gaps = [b - a for a, b in zip(part.calls, part.calls[1:], strict=False)]
    assert gaps == [20.0, 40.0, 80.0, 160.0, MAX_BACKOFF, MAX_BACKOFF, MAX_BACKOFF, 0.0]
    health = runner.health()
    assert health["status"] == "ok" and health["parts"]["gw"]["handled"] == 1
    assert health["parts"]["gw"]["failures_in_a_row"] == 0
    events = [json.loads(line) for line in log]
    assert [e["event"] for e in events] == ["round_failed"] * 7
    assert events[0] == {"event": "round_failed", "part": "gw",
                         "error": "OSError: the gateway is down", "retry_in": 20.0}  # fmt: skip
    assert part.closed == 2  # each run closes its parts at its end


def test_parts_keep_their_own_pace_and_a_close_failure_is_logged() -> None:
    log: list[str] = []
    busy, idle = Flaky("busy", 0, items=3), Flaky("bad-close", 0)
    runner = _runner(busy, idle, log=log)
    runner.run(rounds=6)
    # The idle part gets its turn between the busy one's rounds, then each keeps its pace.
    assert busy.calls == [0.0, 0.0, 0.0, 0.0] and idle.calls == [0.0, 10.0]
    assert json.loads(log[-1])["event"] == "close_failed" and busy.closed == 1


def test_stop_ends_the_run_after_the_round_and_once_runs_each_part_once() -> None:
    log: list[str] = []
    part = Flaky("p", 0, items=100)

    class Stopper(Flaky):
        def run_once(self) -> int:
            runner.stop()
            return 1

    runner = _runner(part, Stopper("stopper", 0), log=log)
    runner.run()
    assert runner.stopping and runner.health()["status"] == "stopping"
    assert len(part.calls) >= 1 and part.closed == 1
    again = _runner(Flaky("a", 0, items=5), Flaky("b", 1), log=log)
    assert again.run_each_once() == 1
    assert again.health()["parts"]["b"]["failures_in_a_row"] == 1


def test_the_registry_names_what_is_missing() -> None:
    with pytest.raises(AdapterError, match="no worker adapter 'x' \\(keychange"):
        load("worker", "x")
    assert any(a.name == "keychange" for a in installed(group="worker"))

    class Needs:
        settings_required = ("host", "port")

    assert configured(Needs, None) == "not configured (needs: host, port)"
    assert configured(Needs, {"host": "h"}) == "not configured (needs: port)"
    assert configured(Needs, {"host": "h", "port": 1}) == "ready"
    assert configured(object(), None) == "ready"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("adapters = 3\n", "holds tables"),
        ("[adapters]\nsmtp = 1\n", "holds tables"),
        ("[adapters.notify]\nsmtp = 1\n", "holds tables"),
        ("[adapters.Notify.smtp]\nhost = 'h'\n", "adapter name 'Notify'"),
        ("[adapters.notify.smtp]\npassword = 'hunter2'\n", "a secret is taken only"),
        ("[adapters.notify.sms]\napi_token = 'x'\n", "a secret is taken only"),
    ],
)
def test_settings_tables_are_checked(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config({"STSVEND_DATA_DIR": str(tmp_path)}, config_file=path)
    assert "hunter2" not in caught.value.message


def test_a_settings_table_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[adapters.notify.smtp]\nhost = 'mail'\npassword_env = 'SMTP_PW'\n")
    cfg = load_config({"STSVEND_DATA_DIR": str(tmp_path)}, config_file=path)
    assert cfg.adapter_settings("notify", "smtp") == {"host": "mail", "password_env": "SMTP_PW"}
    assert cfg.adapter_settings("notify", "sms") is None
    assert "mail" not in repr(cfg)
