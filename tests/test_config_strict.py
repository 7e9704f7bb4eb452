"""Configuration files and variables are read strictly: a clear ConfigError (exit 8), never a
silent truncation and never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsvend.config import ConfigError, load_config
from tests.fuzz.support import INTERNAL, Store

EXIT_CONFIG = 8


def _load(tmp_path: Path, body: bytes, **env: str) -> object:
    path = tmp_path / "config.toml"
    path.write_bytes(body)
    return load_config({"STSVEND_DATA_DIR": str(tmp_path), "STSVEND_CONFIG": str(path), **env})


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"log_seal_seconds = 0.9\n", "whole number"), (b"log_seal_seconds = inf\n", "whole number"),
     (b"log_seal_seconds = nan\n", "whole number"), (b"log_seal_seconds = true\n", "whole number"),
     (b"log_seal_seconds = -1\n", "0 to 86400"), (b"log_seal_seconds = 86401\n", "0 to 86400"),
     (b"key_warning_days = 1e3\n", "whole number"), (b"key_warning_days = 99999\n", "0 to 3650"),
     (b'log_seal_seconds = "1e3"\n', "whole number"), (b'log_seal_seconds = "\xef\xbc\x91"\n',
      "whole number"),
     (b"terminal = \"\\u0000\"\n", "NUL"), (b"\xff\xfe\x00t = 1\n", "not UTF-8"),
     (b"terminal = \"caf\xe9\"\n", "not UTF-8"), (b'currency = "XXX"\n', "unknown currency"),
     (b'min_vend = "1e3"\n', "plain digits"), (b'max_vend = "\xd9\xa1"\n', "plain digits"),
     (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested|unknown")],
)  # fmt: skip
def test_bad_files_are_refused_clearly(tmp_path: Path, body: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, body)


@pytest.mark.parametrize("value", ["0.9", "inf", "+5", " 5", "\uff15", "1e3", "-1", "99999999"])
def test_bad_environment_integers_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError):
        _load(tmp_path, b"", STSVEND_LOG_SEAL_SECONDS=value)


def test_good_values_are_kept(tmp_path: Path) -> None:
    cfg = _load(tmp_path, b"log_seal_seconds = 0\nkey_warning_days = 30\n",
                STSVEND_LOG_SEAL_SECONDS="45")  # fmt: skip
    assert (cfg.log_seal_seconds, cfg.key_warning_days) == (45, 30)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body", [b"\xff\xfe\x00", b"log_seal_seconds = inf\n", b"log_seal_seconds = 0.9\n"]
)
def test_the_cli_says_so_with_exit_8(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(body)
    store = Store(tmp_path / "data", extra={"STSVEND_CONFIG": str(path)})
    out = store.run("shift", "status", role="clerk")
    assert out.code == EXIT_CONFIG != INTERNAL, out
    assert out.stderr.startswith("error: ") and "internal error" not in out.stderr
    assert "log_seal_seconds" in out.stderr or "UTF-8" in out.stderr, out.stderr


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"server_rate_per_second = -1\n", "0 to 1000000"), (b"server_rate_burst = 0\n", "1 to"),
     (b"server_auth_failures = 0\n", "1 to"), (b"server_auth_window_seconds = 86401\n", "1 to"),
     (b"server_rate_per_second = 2.5\n", "whole number"),
     (b"server_session_idle_seconds = 0\n", "1 to"),
     (b"server_session_max_seconds = 604801\n", "1 to"),
     (b"server_session_idle_seconds = 600\nserver_session_max_seconds = 300\n", "at most"),
     (b'metrics_token = "short-secret"\n', "at least 16 characters"),
     (b'metrics_token = "sha256:abc"\n', "at least 16 characters"),
     (b"metrics_token = 1234567890123456789\n", "got a secret")],
)  # fmt: skip
def test_the_servers_limits_and_metrics_token_are_checked(
    tmp_path: Path, body: bytes, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        _load(tmp_path, body)
    assert "short-secret" not in str(refused.value) and "1234567890123456789" not in str(
        refused.value
    )


def test_the_metrics_token_is_kept_but_never_shown(tmp_path: Path) -> None:
    digest = "sha256:" + "ab" * 32
    cfg = _load(tmp_path, f'metrics_token = "{digest}"\nserver_rate_per_second = 0\n'.encode())
    assert (cfg.metrics_token, cfg.server_rate_per_second) == (digest, 0)  # type: ignore[attr-defined]
    assert digest not in repr(cfg)
    plain = _load(tmp_path, b"", STSVEND_METRICS_TOKEN="a-scrape-secret-of-length")
    assert plain.metrics_token == "a-scrape-secret-of-length"  # type: ignore[attr-defined]
    assert "a-scrape-secret" not in repr(plain)
