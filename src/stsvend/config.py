"""Configuration: defaults, then a TOML file, then environment variables.

A new user needs none of it: the data directory comes from the platform's user data directory,
the database is a SQLite file inside it, the terminal is the host name and the time zone UTC.

Where each setting comes from, lowest priority first:

1. the defaults below;
2. the TOML file named by ``STSVEND_CONFIG``, else ``config.toml`` in the data directory;
3. environment variables ``STSVEND_<NAME>`` (``STSVEND_DATA_DIR``, ``STSVEND_DATABASE_URL``,
   ``STSVEND_TERMINAL``, ``STSVEND_TIMEZONE``, ``STSVEND_UTILITY_NAME``, ``STSVEND_TAX_NUMBER``,
   ``STSVEND_CURRENCY``, ``STSVEND_LOG_SEAL_SECONDS``, ``STSVEND_MIN_VEND``,
   ``STSVEND_MAX_VEND``, ``STSVEND_DAILY_LIMIT``, ``STSVEND_KEY_WARNING_DAYS``,
   ``STSVEND_REVERSAL_MAX_AMOUNT``, ``STSVEND_REVERSAL_MAX_AGE_HOURS``,
   ``STSVEND_VENDOR_REVERSAL_WINDOW_MINUTES``, ``STSVEND_VENDOR_REVERSAL_DAILY_CAP``, and the
   server's:
   ``STSVEND_SERVER_…``, ``STSVEND_TLS_…``, ``STSVEND_METRICS_TOKEN``).

The key-encryption key is never read from the file: only ``STSVEND_KEK``, ``STSVEND_KEK_FILE``
or ``STSVEND_KEK_PASSPHRASE`` give it, so that a configuration file can be shared without
sharing key custody.

The utility's identity (``utility_name``, ``tax_number``, ``currency``, ``timezone``) is kept in
the store by ``stsvend init`` (:mod:`stsvend.services.identity`); a value given here must agree
with it, and one that contradicts it is refused when the store is opened.  :attr:`Config.sources`
says where each value that was given came from, so that the refusal can name it.

>>> cfg = load_config({"STSVEND_DATA_DIR": "/srv/sts", "STSVEND_TIMEZONE": "Africa/Nairobi"})
>>> cfg.database_url
'sqlite:////srv/sts/stsvend.db'
>>> cfg.timezone, cfg.zone.key
('Africa/Nairobi', 'Africa/Nairobi')
>>> cfg.source_of("timezone"), cfg.source_of("currency")
('STSVEND_TIMEZONE', None)
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import evolve, field, frozen

from stsvend.errors import StsError

__all__ = ["ENV_PREFIX", "Config", "ConfigError", "default_data_dir", "load_config"]

ENV_PREFIX = "STSVEND_"


#: The adapters' settings tables: ("GROUP.NAME", ((key, value), ...)) each.
AdapterTables = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


class ConfigError(StsError):
    """The configuration file or an environment variable is not usable."""

    code = "config"
    default_message = "the configuration is not valid"


def default_data_dir() -> Path:
    """The platform's per-user data directory for stsvend (created on first use, not here)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("stsvend", appauthor=False))


@frozen
class Config:
    """Settings of one installation (one terminal)."""

    data_dir: Path
    database_url: str
    terminal: str
    timezone: str = "UTC"
    #: Empty until the store or the configuration names them (never a made-up utility).
    utility_name: str = ""
    tax_number: str = ""
    currency: str = "USD"
    #: A seal over every chain head of the token log is written at most this often.
    log_seal_seconds: int = 60
    #: Vend limits for meters that have none of their own (major units, as text).
    min_vend: str = "1.00"
    max_vend: str = "10000.00"
    daily_limit: str = "20000.00"
    #: Days ahead the key expiry / rollover report warns.
    key_warning_days: int = 90
    #: A supervisor reverses at the counter only sales up to this amount (major units, as
    #: text) and this many hours old; anything larger or older is a refund case.
    reversal_max_amount: str = "1000.00"
    reversal_max_age_hours: int = 24
    #: A vendor's advice that a sale was not delivered reverses it only this many minutes
    #: after its issue, and only while the vendor's advices of the local day refund at most
    #: this much in all (major units, as text; "0": none).
    vendor_reversal_window_minutes: int = 15
    vendor_reversal_daily_cap: str = "500.00"
    #: The sale-point server (``stsvend serve``): where it listens, how many worker processes.
    server_host: str = "127.0.0.1"
    server_port: int = 8080
    server_workers: int = 1
    #: TLS: the server's certificate and key (PEM files; both or neither), and the CA whose
    #: client certificates a terminal must show (mutual TLS; empty: none asked).
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    #: The server's limits (per worker process): requests a second per terminal key and the
    #: burst a key may save up (rate 0: no limit), and the failed authentications an address
    #: may make in a window of that many seconds before it must wait for the window's end.
    server_rate_per_second: int = 50
    server_rate_burst: int = 100
    server_auth_failures: int = 20
    server_auth_window_seconds: int = 60
    #: A person's session at a terminal (``POST /v1/sessions``) ends after this many seconds
    #: without a request, and after the second setting's seconds however busy it is.
    server_session_idle_seconds: int = 900
    server_session_max_seconds: int = 8 * 3600
    #: The bearer secret that ``GET /metrics`` asks for, or ``sha256:<64 hex digits>`` of it
    #: (empty: no metrics endpoint).  Never shown in the configuration's repr.
    metrics_token: str = field(default="", repr=False)
    #: A sale-point client (``vend --server``): the file holding the terminal's key (mode 0600;
    #: the key itself only from the environment, ``STSVEND_TERMINAL_KEY``, never this file's
    #: settings), the CA that signed the server's certificate (empty: httpx's, certifi's), and the
    #: client certificate and key for mutual TLS (both or neither).
    terminal_key_file: str = ""
    server_ca: str = ""
    client_cert: str = ""
    client_key: str = ""
    #: (setting, where its value came from: ``STSVEND_<NAME>`` or the file's path), for each
    #: setting the file or the environment gave.
    sources: tuple[tuple[str, str], ...] = ()
    #: The ``[adapters.GROUP.NAME]`` tables of the file, each as ("GROUP.NAME", ((key, value),
    #: ...)): the
    #: settings of the plug-in adapters (:mod:`stsvend.adapters`), read by
    #: :meth:`adapter_settings`.  Secrets (passwords, API tokens) never sit here: an adapter
    #: takes them from the environment.
    adapters: AdapterTables = field(
        default=(), repr=False, eq=False
    )

    def source_of(self, name: str) -> str | None:
        """Where the value of setting ``name`` came from (None: the default or the store)."""
        return dict(self.sources).get(name)

    def adapter_settings(self, group: str, name: str) -> dict[str, Any] | None:
        """The ``[adapters.GROUP.NAME]`` table of the configuration file (None: there is none).

        >>> cfg = Config(Path("/srv"), "sqlite://", "T1",
        ...              adapters=(("notify.smtp", (("host", "mail.example"), ("port", 25))),))
        >>> cfg.adapter_settings("notify", "smtp"), cfg.adapter_settings("notify", "sms")
        ({'host': 'mail.example', 'port': 25}, None)
        """
        for adapter, pairs in self.adapters:
            if adapter == f"{group}.{name}":
                return dict(pairs)
        return None

    @property
    def zone(self) -> ZoneInfo:
        """The utility's time zone: months, days and shifts follow it (TIDs are UTC)."""
        return ZoneInfo(self.timezone)

    @property
    def keystore_dir(self) -> Path:
        return self.data_dir / "keys"


# name in the TOML file / environment → (attribute, converter)
_INT_FIELDS = {
    "log_seal_seconds",
    "key_warning_days",
    "reversal_max_age_hours",
    "vendor_reversal_window_minutes",
    "server_port",
    "server_workers",
    "server_rate_per_second",
    "server_rate_burst",
    "server_auth_failures",
    "server_auth_window_seconds",
    "server_session_idle_seconds",
    "server_session_max_seconds",
}
_STR_FIELDS = {
    "database_url",
    "terminal",
    "timezone",
    "utility_name",
    "tax_number",
    "currency",
    "min_vend",
    "max_vend",
    "daily_limit",
    "reversal_max_amount",
    "vendor_reversal_daily_cap",
    "server_host",
    "tls_cert",
    "tls_key",
    "tls_client_ca",
    "metrics_token",
    "terminal_key_file",
    "server_ca",
    "client_cert",
    "client_key",
}


#: Inclusive bounds of the integer settings.
_INT_RANGES = {
    "log_seal_seconds": (0, 86_400),
    "key_warning_days": (0, 3_650),
    "reversal_max_age_hours": (0, 24 * 366),
    "vendor_reversal_window_minutes": (0, 24 * 60),
    "server_port": (1, 65_535),
    "server_workers": (1, 64),
    "server_rate_per_second": (0, 1_000_000),
    "server_rate_burst": (1, 1_000_000),
    "server_auth_failures": (1, 1_000_000),
    "server_auth_window_seconds": (1, 86_400),
    "server_session_idle_seconds": (1, 86_400),
    "server_session_max_seconds": (1, 7 * 86_400),
}
_MONEY_FIELDS = ("min_vend", "max_vend", "daily_limit", "vendor_reversal_daily_cap")
_METRICS_DIGEST = re.compile(r"sha256:[0-9a-fA-F]{64}")


def _convert(name: str, value: Any, source: str) -> Any:
    if name in _INT_FIELDS:
        low, high = _INT_RANGES[name]
        # A TOML integer, or plain ASCII digits from the environment: 0.9, inf, true or "1e3"
        # are refused, never truncated.
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
            value = int(value)
        if type(value) is not int:
            raise ConfigError(
                f"{name} in {source} must be a whole number (an integer), got {value!r}"
            )
        if not low <= value <= high:
            raise ConfigError(f"{name} in {source} must be {low} to {high}, got {value}")
        return value
    if not isinstance(value, str) or not value.strip():
        shown = "a secret" if name == "metrics_token" else repr(value)
        raise ConfigError(f"{name} in {source} must be a non-empty string, got {shown}")
    if "\x00" in value:
        raise ConfigError(f"{name} in {source} holds a NUL character")
    return value.strip()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text (a TOML file must be UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply") from None
    # Settings may sit at the top level or in a [stsvend] table.
    section = data.get("stsvend", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [stsvend] must be a table")
    return section


_ADAPTER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_SECRET_KEYS = ("password", "secret", "token", "api_key", "apikey")

def _adapter_tables(raw: Any, path: Path) -> AdapterTables:
    # [adapters.GROUP.NAME] tables, kept as ("GROUP.NAME", ((key, value), ...)).
    shape = f"{path}: [adapters] holds tables [adapters.GROUP.NAME] (e.g. [adapters.notify.smtp])"
    if not isinstance(raw, dict):
        raise ConfigError(shape)
    tables = []
    for group, named in sorted(raw.items()):
        if not isinstance(named, dict) or not all(isinstance(t, dict) for t in named.values()):
            raise ConfigError(shape)
        for name, table in sorted(named.items()):
            for part in (group, name):
                if not _ADAPTER_NAME.fullmatch(part):
                    raise ConfigError(f"{path}: adapter name {part!r} is not 1-40 of a-z 0-9 _ -")
            for key in table:
                # "password_env = 'SMTP_PASSWORD'" names the variable; "password = …" is refused.
                if not key.endswith("_env") and any(w in key.lower() for w in _SECRET_KEYS):
                    raise ConfigError(
                        f"{path}: [adapters.{group}.{name}] {key}: a secret is taken only from "
                        "the environment (name its variable with a key ending in _env)"
                    )
            tables.append((f"{group}.{name}", tuple(sorted(table.items()))))
    return tuple(tables)


def _check(config: Config) -> None:
    """Refuse a currency or default vend limit that no sale could use, or half a TLS setting,
    now, not at a sale or at the server's start."""
    from stsvend.vending.money import Money

    if bool(config.tls_cert) != bool(config.tls_key):
        raise ConfigError("tls_cert and tls_key go together: give both or neither")
    if config.tls_client_ca and not config.tls_cert:
        raise ConfigError("tls_client_ca (mutual TLS) needs tls_cert and tls_key")
    token = config.metrics_token
    if token and not (_METRICS_DIGEST.fullmatch(token) or len(token) >= 16):
        # The value itself is never repeated in the message.
        raise ConfigError("metrics_token: at least 16 characters, or sha256:<64 hex digits>")
    if config.server_session_idle_seconds > config.server_session_max_seconds:
        raise ConfigError("server_session_idle_seconds is at most server_session_max_seconds")
    if bool(config.client_cert) != bool(config.client_key):
        raise ConfigError("client_cert and client_key go together: give both or neither")

    for name in ("currency", *_MONEY_FIELDS):
        try:
            Money.parse(getattr(config, name) if name != "currency" else "0", config.currency)
        except StsError as exc:
            raise ConfigError(f"{name}: {exc.message}") from None


def load_config(env: Mapping[str, str] | None = None, *, config_file: Path | None = None) -> Config:
    """Build the configuration from defaults, the TOML file and ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    data_dir_text = env.get(ENV_PREFIX + "DATA_DIR")
    data_dir = Path(data_dir_text).expanduser() if data_dir_text else default_data_dir()
    path_text = env.get(ENV_PREFIX + "CONFIG")
    path = config_file or (Path(path_text).expanduser() if path_text else None)
    explicit = path is not None
    path = path or data_dir / "config.toml"
    if explicit and not path.is_file():
        raise ConfigError(f"the configuration file {path} does not exist")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    file_values = _read_toml(path)
    if "data_dir" in file_values and not data_dir_text:
        data_dir = Path(_convert("data_dir", file_values["data_dir"], str(path))).expanduser()
    adapters = _adapter_tables(file_values.pop("adapters", {}), path)
    for name, value in file_values.items():
        if name == "data_dir":
            continue
        if name in {"kek", "key_encryption_key"}:
            raise ConfigError(f"{path}: the key-encryption key is taken only from STSVEND_KEK")
        if name == "terminal_key":
            raise ConfigError(f"{path}: a terminal key is taken only from STSVEND_TERMINAL_KEY "
                              "or the file terminal_key_file names")  # fmt: skip
        if name not in _INT_FIELDS | _STR_FIELDS:
            raise ConfigError(f"{path}: unknown setting {name!r}")
        values[name] = _convert(name, value, str(path))
        sources[name] = str(path)
    for name in _INT_FIELDS | _STR_FIELDS:
        text = env.get(ENV_PREFIX + name.upper())
        if text:
            values[name] = _convert(name, text, ENV_PREFIX + name.upper())
            sources[name] = ENV_PREFIX + name.upper()
    base = Config(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'stsvend.db'}",
        terminal=socket.gethostname() or "terminal",
    )
    config = evolve(base, **values, sources=tuple(sorted(sources.items())), adapters=adapters)
    try:
        config.zone  # noqa: B018  # validate the zone name now, not at the first sale
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"unknown time zone {config.timezone!r}") from None
    _check(config)
    return config
