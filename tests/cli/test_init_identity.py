"""``stsvend init`` sets up a real store: the utility's identity kept in the store, refused
when the configuration contradicts it, fixed currency and time zone once the store sells; on an
existing store it says how to add an admin.  On SQLite and PostgreSQL."""

from __future__ import annotations

from stsvend_cli.exit_codes import exit_code_for
from tests.cli.conftest import PINS, Cli, M

#: No identity from the environment: what a new user's shell gives.
NO_IDENTITY = {"STSVEND_UTILITY_NAME": "", "STSVEND_TAX_NUMBER": "", "STSVEND_CURRENCY": "",
               "STSVEND_TIMEZONE": ""}  # fmt: skip
IDENTITY_OPTIONS = ("--utility-name", "Lakeside Water & Power", "--tax-number", "VAT-7712",
                    "--currency", "kes", "--timezone", "Africa/Nairobi")  # fmt: skip


def _settings(cli: Cli) -> dict[str, str]:
    rows = cli.sql("SELECT name, value FROM setting WHERE name LIKE 'utility.%'")
    return {str(name): str(value) for name, value in rows}


def test_a_new_store_needs_the_utilitys_identity(fresh: Cli) -> None:
    fresh.env.update(NO_IDENTITY)
    proc = fresh.run("init", "--admin", "admin", role=None, STSVEND_PIN=PINS["admin"])
    assert proc.returncode == exit_code_for("input") == 3
    for option in ("--utility-name", "--tax-number", "--currency", "--timezone"):
        assert option in proc.stderr
    assert fresh.sql("SELECT count(*) FROM operator") == [(0,)] and _settings(fresh) == {}


def test_init_keeps_the_identity_and_the_store_is_its_source(fresh: Cli) -> None:
    fresh.env.update(NO_IDENTITY)
    doc = fresh.json("init", "--admin", "admin", *IDENTITY_OPTIONS, role=None,
                     STSVEND_PIN=PINS["admin"])  # fmt: skip
    assert doc["utility"] == {"utility_name": "Lakeside Water & Power", "tax_number": "VAT-7712",
                              "currency": "KES", "timezone": "Africa/Nairobi"}  # fmt: skip
    assert _settings(fresh)["utility.currency"] == "KES"
    # The next command needs none of it in its configuration...
    assert fresh.ok("shift", "status", role="admin")
    # ... and one that contradicts the store is refused, naming what to change.
    proc = fresh.run("shift", "status", role="admin", STSVEND_CURRENCY="ZAR")
    assert proc.returncode == exit_code_for("config") == 8
    assert "STSVEND_CURRENCY=ZAR contradicts this store's currency KES" in proc.stderr
    assert "remove STSVEND_CURRENCY, or set it to KES" in proc.stderr


def test_a_configuration_file_that_contradicts_the_store(fresh: Cli) -> None:
    fresh.env.update(NO_IDENTITY)
    fresh.ok("init", "--admin", "admin", *IDENTITY_OPTIONS, role=None, STSVEND_PIN=PINS["admin"])
    config = fresh.data_dir / "config.toml"
    config.write_text('[stsvend]\ntimezone = "Europe/London"\n', encoding="utf-8")
    proc = fresh.run("shift", "status", role="admin")
    assert proc.returncode == 8
    assert f"timezone = 'Europe/London' in {config} contradicts this store's time zone" in (
        proc.stderr
    )


def test_an_option_that_contradicts_the_configuration_writes_nothing(fresh: Cli) -> None:
    proc = fresh.run("init", "--admin", "admin", "--currency", "KES", role=None,
                     STSVEND_PIN=PINS["admin"])  # fmt: skip
    assert proc.returncode == 8 and "STSVEND_CURRENCY=ZAR contradicts" in proc.stderr
    assert fresh.sql("SELECT count(*) FROM operator") == [(0,)] and _settings(fresh) == {}


def test_bad_identity_values_are_refused_clearly(fresh: Cli) -> None:
    fresh.env.update(NO_IDENTITY)
    for bad, said in ((("--currency", "XYZ"), "unknown currency"),
                      (("--timezone", "Mars/Olympus"), "unknown time zone"),
                      (("--utility-name", " "), "utility name must not be empty"),
                      (("--tax-number", "x" * 81), "at most 80")):  # fmt: skip
        options = list(IDENTITY_OPTIONS)
        options[options.index(bad[0]) + 1] = bad[1]
        proc = fresh.run("init", "--admin", "admin", *options, role=None,
                         STSVEND_PIN=PINS["admin"])  # fmt: skip
        assert proc.returncode == 3 and said in proc.stderr, (bad, proc.stderr)
    proc = fresh.run("init", "--admin", "admin", *IDENTITY_OPTIONS, role=None, STSVEND_PIN="1234")
    assert proc.returncode == 3 and fresh.sql("SELECT count(*) FROM operator") == [(0,)]
    assert _settings(fresh) == {}


def test_init_on_an_existing_store_says_how_to_add_an_admin(cli: Cli) -> None:
    for args in (("init", "--admin", "bob"), ("init",)):
        proc = cli.run(*args, role=None)
        assert proc.returncode == 3, proc
        assert "stsvend operators add NAME --role admin" in proc.stderr
        assert "stsvend db upgrade" in proc.stderr
    assert ("bob",) not in cli.sql("SELECT username FROM operator")


def test_an_older_store_records_its_identity_then_corrects_name_and_tax_number(cli: Cli) -> None:
    assert _settings(cli) == {}
    first = cli.json("init")  # an admin upgrades it: the configured identity is kept
    assert first["utility"]["utility_name"] == "City Power"
    fixed = cli.json("init", "--tax-number", "VAT-4099999999", STSVEND_TAX_NUMBER="")
    assert fixed["utility"]["tax_number"] == "VAT-4099999999"
    [(operator, outcome, detail)] = cli.operations("utility.set")[-1:]
    assert (operator, outcome, detail["tax_number"]) == ("admin", "ok", "VAT-4099999999")
    receipt = cli.json("vend", M[1], "20", role="clerk", STSVEND_TAX_NUMBER="")
    assert (receipt["utility"], receipt["tax_number"]) == ("City Power", "VAT-4099999999")


def test_currency_and_time_zone_are_fixed_once_the_store_sells(cli: Cli) -> None:
    cli.json("init")
    proc = cli.run("init", "--timezone", "UTC", STSVEND_TIMEZONE="")
    assert proc.returncode == exit_code_for("refused") == 7
    assert "regroup the days, months and shifts" in proc.stderr
    assert "docs/operations.md" in proc.stderr
    proc = cli.run("init", "--currency", "USD", STSVEND_CURRENCY="")
    assert proc.returncode == 7 and "ZAR" in proc.stderr
    assert _settings(cli)["utility.timezone"] == "Africa/Johannesburg"


def test_a_clerk_may_not_change_the_utility(cli: Cli) -> None:
    proc = cli.run("init", "--tax-number", "VAT-1", role="clerk", STSVEND_TAX_NUMBER="")
    assert proc.returncode == exit_code_for("permission") == 6
    assert _settings(cli) == {}


def test_the_demo_store_is_not_inits(fresh: Cli) -> None:
    fresh.env.update(STSVEND_CURRENCY="USD", STSVEND_TIMEZONE="UTC",
                     STSVEND_UTILITY_NAME="Demo Utility", STSVEND_TAX_NUMBER="TAX-000000")
    admin = next(o for o in fresh.json("demo", role=None)["operators"] if o["role"] == "admin")
    proc = fresh.run("init", "--operator", admin["name"], "--utility-name", "Mine", role=None,
                     STSVEND_PIN=admin["pin"], STSVEND_UTILITY_NAME="")  # fmt: skip
    assert proc.returncode == 7 and "TEST demo store" in proc.stderr
