"""Strict input at the counter, end to end through ``stsvend`` (in process), on SQLite and
PostgreSQL: slips are refused with a clear error and a documented exit code, never exit 70,
and an operator without the right gets the refusal before any value is read."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.support import INTERNAL, M, Store, build

EXIT_INPUT, EXIT_NOT_ALLOWED, EXIT_STORAGE = 3, 6, 8


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("strict") / "data"
    if request.param == "sqlite":
        yield build(folder)
        return
    if not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
        pytest.skip("STSVEND_TEST_POSTGRES_URL is not set")
    from tests.store.pgdb import temporary_database

    with temporary_database("stsvend_strict") as url:
        yield build(folder, url)


def refused(store: Store, *args: str, role: str = "admin", code: int = EXIT_INPUT) -> str:
    out = store.run(*args, role=role)
    assert out.code == code, (args, out)
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr, out.stderr
    assert out.stderr.startswith("error: "), out.stderr
    return out.stderr


# -- money -------------------------------------------------------------------------------------

SLIPS = ["1e3", "1E2", "1_000", "\uff11\uff10\uff10", "\u0661\u0660\u0660", "+100", " 100",
         "100 ", "1,000", "0x10", "Infinity", "NaN", "10.001", "1" * 40]  # fmt: skip


@pytest.mark.parametrize("amount", SLIPS)
def test_vend_refuses_every_amount_but_plain_digits(store: Store, amount: str) -> None:
    before = _sales(store)
    message = refused(store, "vend", M[2], amount, role="clerk")
    assert "amount" in message
    assert _sales(store) == before  # nothing was sold


def _sales(store: Store) -> int:
    out = store.run("report", "daily", "--json", role="supervisor")
    assert out.code == 0, out
    return sum(row["count"] for row in json.loads(out.stdout)["by_kind"])


@pytest.mark.parametrize("typed", [M[2] + "\r", "\t" + M[2], M[2] + "\n", M[2] + "\u00a0"])
def test_a_meter_number_with_stray_whitespace_is_refused(store: Store, typed: str) -> None:
    refused(store, "meters", "show", typed, role="clerk")


def test_a_meter_number_may_be_grouped(store: Store) -> None:
    out = store.run("meters", "show", f"{M[2][:4]} {M[2][4:8]}-{M[2][8:]}", "--json", role="clerk")
    assert out.code == 0 and json.loads(out.stdout)["drn"] == M[2], out


def test_a_negative_amount_is_refused(store: Store) -> None:
    assert "amount" in refused(store, "vend", M[2], "--", "-5", role="clerk")


def test_vend_accepts_a_plain_amount(store: Store) -> None:
    out = store.run("vend", M[3], "12.50", "--json", role="clerk")
    assert out.code == 0, out
    assert json.loads(out.stdout)["money"]["tendered"] == 1250


@pytest.mark.parametrize(
    "args",
    [("trial", M[2], "1e2"), ("trial", M[2], "--units", "1e2"),
     ("meters", "limits", M[2], "--max", "1e4"), ("meters", "limits", M[2], "--min", "\uff15"),
     ("customers", "open-account", "--customer", "C-9", "--contract", "K-9", "--meter", M[5],
      "--tariff", "FLAT", "--debt", "1e3"),
     ("customers", "open-account", "--customer", "C-9", "--contract", "K-9", "--meter", M[5],
      "--tariff", "FLAT", "--recovery", "inf"),
     ("tariffs", "add", "T2", "--name", "x", "--price", "2e0"),
     ("tariffs", "add", "T2", "--name", "x", "--price", "2", "--tax", "inf"),
     ("tariffs", "add", "T2", "--name", "x", "--price", "2", "--free-units", "1e1"),
     ("tariffs", "add", "T2", "--name", "x", "--price", "2", "--emergency-repay", "NaN"),
     ("tariffs", "add", "T2", "--name", "x", "--block", "1e2:1", "--block", ":2")],
)  # fmt: skip
def test_every_money_and_number_option_is_strict(store: Store, args: tuple[str, ...]) -> None:
    role = "supervisor" if args[0] == "trial" else "admin"
    refused(store, *args, role=role)


# -- the commands that ended in exit 70 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "role"),
    [(("free-issue", M[2], "inf", "--reason", "storm damage"), "supervisor"),
     (("free-issue", M[2], "1e1", "--reason", "storm damage"), "supervisor"),
     (("log", "export", "--key", "600100/x"), "auditor"),
     (("log", "export", "--key", "123456/\uff11"), "auditor"),
     (("reprint", "9" * 30), "supervisor"),
     (("reprint", "\uff11"), "supervisor"),
     (("reprint", "99999999999"), "supervisor"),
     (("key-change", "resume", "99999999999"), "engineer"),
     (("reverse", "9" * 30, "--reason", "wrong meter"), "supervisor"),
     (("report", "daily", "9999-12-31"), "supervisor"),
     (("report", "daily", "0001-01-01"), "supervisor"),
     (("report", "monthly", "0001-01"), "supervisor"),
     (("report", "daily", "20261231"), "supervisor"),
     (("report", "monthly", "9999-13"), "supervisor"),
     (("key-change", "resume", "9" * 30), "engineer"),
     (("engineering", M[2], "clear-credit", "--work-order", "W1", "--value", "9" * 30),
      "engineer"),
     (("test-token", "9" * 30), "engineer")],
)  # fmt: skip
def test_former_internal_errors_are_clear_errors(
    store: Store, args: tuple[str, ...], role: str
) -> None:
    out = store.run(*args, role=role)
    assert out.code not in (0, INTERNAL), out
    assert out.stderr.startswith("error: ") and "internal error" not in out.stderr, out


def test_export_to_an_unwritable_path_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    out = store.run("log", "export", "-o", str(tmp_path / "missing" / "x.csv"), role="auditor")
    # An output file that cannot be written is the storage kind of problem (output_file).
    assert out.code == EXIT_STORAGE and "cannot write" in out.stderr, out


def test_import_of_a_file_that_is_not_utf8(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "meters.csv"
    bad.write_bytes(b"drn,sgc\n\xff\xfe\n")
    assert "not UTF-8" in refused(store, "meters", "import", str(bad))


# -- authorisation before parsing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "role"),
    [(("free-issue", M[2], "abc", "--reason", "none"), "clerk"),
     (("engineering", M[2], "clear-credit", "--work-order", "W", "--value", "x"), "clerk"),
     (("test-token", "x"), "auditor"),
     (("vend", M[2], "1e3"), "auditor"),
     (("report", "daily", "not-a-day"), "clerk"),
     (("report", "monthly", "x"), "clerk"),
     (("log", "export", "--key", "600100/x"), "clerk"),
     (("log", "export", "--since", "yesterday"), "clerk"),
     (("reprint", "x"), "auditor"),
     (("reverse", "x", "--reason", "wrong meter"), "clerk"),
     (("meters", "limits", M[2], "--max", "1e4"), "clerk"),
     (("meters", "add", M[7], "--sgc", "x", "--ti", "x"), "clerk"),
     (("supply-groups", "add", "x", "--krn", "x", "--base-date", "x"), "clerk"),
     (("customers", "open-account", "--customer", "C", "--contract", "K", "--meter", "x",
       "--tariff", "x", "--debt", "1e3"), "clerk"),
     (("tariffs", "add", "T3", "--name", "x", "--price", "x"), "clerk"),
     (("key-change", "meter", M[2], "--krn", "x"), "clerk"),
     (("key-change", "group", "x", "--batch-size", "x"), "clerk"),
     (("key-change", "resume", "x"), "clerk"),
     (("key-change", "report", "--sgc", "x"), "clerk")],
)  # fmt: skip
def test_authorisation_comes_before_parsing(store: Store, args: tuple[str, ...], role: str) -> None:
    message = refused(store, *args, role=role, code=EXIT_NOT_ALLOWED)
    assert "may not" in message or "not allowed" in message or "permission" in message, message
