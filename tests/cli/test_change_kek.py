"""``stsvend keys change-kek``: re-sealing the installation's keystore under a new KEK.

Run as a user runs it, on SQLite and PostgreSQL, on a copy of the base installation, whose
keystore (``keystore.json``, TEST keys) is sealed under the raw KEK ``conftest.KEK`` given by
``STSVEND_KEK``; one test builds a PRODUCTION keystore through ``init`` and ``keys import``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stsvend.vending.roles import Action, Role, is_allowed
from stsvend_cli.exit_codes import exit_code_for
from tests.cli.conftest import KEK, PINS, ROLES, Cli, M
from tests.cli.keys_install import PRODUCTION_160_KEY, production_entry
from tests.cli.keys_install import key_file as key_file_text

NEW_KEK = "c3" * 32
NEW_PASSPHRASE = "a long and new KEK passphrase"
SECRETS = (KEK, NEW_KEK, KEK.upper(), NEW_KEK.upper(), NEW_PASSPHRASE, "abababababababab")


def _keystore(cli: Cli) -> Path:
    return cli.data_dir / "keystore.json"


def _operations(cli: Cli, action: str) -> list[tuple[str, str, str]]:
    return [(op, outcome, json.dumps(detail)) for op, outcome, detail in cli.operations(action)]


def _no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_change_then_vend_and_verify_under_the_new_kek(cli: Cli) -> None:
    before = json.loads(_keystore(cli).read_text())
    proc = cli.run("keys", "change-kek", STSVEND_NEW_KEK=NEW_KEK)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "key-encryption key changed" in lines[0]
    assert "5 key(s)" in lines[0] and "unchanged" in lines[0]
    _no_secrets(proc.stdout, proc.stderr)

    after = json.loads(_keystore(cli).read_text())
    assert [k["record"] for k in after["keys"]] == [k["record"] for k in before["keys"]]
    assert [k["sealed"] for k in after["keys"]] != [k["sealed"] for k in before["keys"]]
    assert after["check"] != before["check"]
    assert oct(_keystore(cli).stat().st_mode & 0o777) == "0o600"

    new = {"STSVEND_KEK": NEW_KEK}
    sale = cli.json("vend", M[2], "10", role="clerk", **new)
    assert sale["units"] == 50
    verified = cli.json("log", "verify", role="auditor", **new)
    assert verified["ok"] is True
    listed = cli.json("keys", "list", role="auditor", **new)
    assert len(listed) == 5

    [(operator, outcome, detail)] = _operations(cli, "keys.change-kek")
    assert (operator, outcome) == ("admin", "ok")
    assert json.loads(detail)["to"] == "raw"
    _no_secrets(detail)

    # The old KEK no longer opens the keystore, for any command.
    for args, role in ((["vend", M[2], "10"], "clerk"), (["log", "verify"], "auditor")):
        proc = cli.run(*args, role=role)
        assert proc.returncode == exit_code_for("wrong_kek") == 4, proc.stderr
        assert "key-encryption key does not open" in proc.stderr


def test_change_to_a_passphrase_and_on_again_with_json(cli: Cli, tmp_path: Path) -> None:
    data = cli.json("keys", "change-kek", STSVEND_NEW_KEK_PASSPHRASE=NEW_PASSPHRASE)
    assert data["changed"] is True and data["kek"] == "passphrase"
    assert data["keys"] == 5 and data["mode"] == "test"
    _no_secrets(json.dumps(data))
    header = json.loads(_keystore(cli).read_text())["kek"]
    assert header["kind"] == "scrypt" and header["n"] == 2**17

    # From the passphrase to a KEK file (mode 0600); the current KEK is now the passphrase.
    kek_file = tmp_path / "new.kek"
    kek_file.write_text(NEW_KEK + "\n")
    kek_file.chmod(0o600)
    passphrase_env = {"STSVEND_KEK": "", "STSVEND_KEK_PASSPHRASE": NEW_PASSPHRASE}
    proc = cli.run("keys", "change-kek", STSVEND_NEW_KEK_PASSPHRASE=NEW_PASSPHRASE,
                   **passphrase_env)  # fmt: skip
    assert proc.returncode == exit_code_for("kek") and "is the one in use" in proc.stderr
    again = cli.json("keys", "change-kek", STSVEND_NEW_KEK_FILE=str(kek_file), **passphrase_env)
    assert again["kek"] == "raw" and again["log_key"] == data["log_key"]
    file_env = {"STSVEND_KEK": "", "STSVEND_KEK_FILE": str(kek_file)}
    assert cli.json("log", "verify", role="auditor", **file_env)["ok"] is True
    proc = cli.run("keys", "list", role="auditor", **passphrase_env)
    assert proc.returncode == exit_code_for("kek")


def test_a_wrong_current_kek_changes_nothing(cli: Cli) -> None:
    before = _keystore(cli).read_bytes()
    files = sorted(p.name for p in cli.data_dir.iterdir())
    proc = cli.run("keys", "change-kek", STSVEND_KEK="00" * 32, STSVEND_NEW_KEK=NEW_KEK)
    assert proc.returncode == exit_code_for("wrong_kek") == 4
    assert "key-encryption key does not open" in proc.stderr and "nothing" in proc.stderr
    assert _keystore(cli).read_bytes() == before
    assert sorted(p.name for p in cli.data_dir.iterdir()) == files
    assert _operations(cli, "keys.change-kek") == []
    # A passphrase where the keystore wants a raw KEK: refused the same way, nothing written.
    proc = cli.run("keys", "change-kek", STSVEND_KEK="",
                   STSVEND_KEK_PASSPHRASE="not the right one", STSVEND_NEW_KEK=NEW_KEK)  # fmt: skip
    assert proc.returncode == exit_code_for("kek") and "sealed under a raw KEK" in proc.stderr
    assert _keystore(cli).read_bytes() == before
    # The old KEK still works.
    cli.ok("vend", M[2], "10", role="clerk")
    assert cli.json("log", "verify", role="auditor")["ok"] is True


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_an_admin_may_change_the_kek(cli: Cli, role: str) -> None:
    assert not is_allowed(Role(role), Action.KEYS_IMPORT)
    before = _keystore(cli).read_bytes()
    proc = cli.run("keys", "change-kek", role=role, STSVEND_NEW_KEK=NEW_KEK)
    assert proc.returncode == exit_code_for("permission") == 6
    assert "may not import a key file (allowed: admin)" in proc.stderr
    assert _keystore(cli).read_bytes() == before


def test_a_wrong_pin_is_refused(cli: Cli) -> None:
    before = _keystore(cli).read_bytes()
    proc = cli.run("keys", "change-kek", STSVEND_PIN="999999", STSVEND_NEW_KEK=NEW_KEK)
    assert proc.returncode == 6 and "wrong PIN" in proc.stderr
    assert _keystore(cli).read_bytes() == before


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no new key-encryption key"),
        ({"STSVEND_NEW_KEK": NEW_KEK, "STSVEND_NEW_KEK_PASSPHRASE": NEW_PASSPHRASE},
         "set only one of STSVEND_NEW_KEK, STSVEND_NEW_KEK_PASSPHRASE"),
        ({"STSVEND_NEW_KEK": NEW_KEK, "STSVEND_NEW_KEK_FILE": "/nonexistent"},
         "set only one of STSVEND_NEW_KEK, STSVEND_NEW_KEK_FILE"),
        ({"STSVEND_NEW_KEK": "12ab"}, "STSVEND_NEW_KEK must be 64 hexadecimal digits"),
        ({"STSVEND_NEW_KEK_PASSPHRASE": "short"}, "at least 8 characters"),
        ({"STSVEND_NEW_KEK_FILE": "/nonexistent/new.kek"}, "no KEK file"),
        ({"STSVEND_NEW_KEK": KEK}, "the new key-encryption key is the one in use"),
        ({"STSVEND_NEW_KEK": KEK.upper()}, "the new key-encryption key is the one in use"),
    ],
)  # fmt: skip
def test_a_missing_repeated_bad_or_unchanged_new_kek_is_refused(
    cli: Cli, env: dict[str, str], message: str
) -> None:
    before = _keystore(cli).read_bytes()
    proc = cli.run("keys", "change-kek", **env)
    assert proc.returncode == exit_code_for("kek") == 4, proc.stderr
    assert message in proc.stderr and proc.stderr.startswith("error: ")
    _no_secrets(proc.stderr)
    assert _keystore(cli).read_bytes() == before
    assert _operations(cli, "keys.change-kek") == []


def test_the_new_kek_is_never_a_command_line_value(cli: Cli) -> None:
    proc = cli.run("keys", "change-kek", "--new-kek", NEW_KEK)
    assert proc.returncode == 2
    proc = cli.run("keys", "change-kek", NEW_KEK)
    assert proc.returncode == 2


def test_the_demo_keystore_is_refused(fresh: Cli) -> None:
    demo = fresh
    # The demo store keeps the demo utility's identity: the harness's City Power would
    # contradict it.
    demo.env.update(STSVEND_CURRENCY="USD", STSVEND_TIMEZONE="UTC",
                    STSVEND_UTILITY_NAME="Demo Utility", STSVEND_TAX_NUMBER="TAX-000000")
    shown = demo.json("demo", role=None)
    pins = {o["role"]: (o["name"], o["pin"]) for o in shown["operators"]}
    assert not (demo.data_dir / "keystore.json").exists()
    kek_file = demo.data_dir / "demo-kek.hex"
    store = demo.data_dir / "demo-keystore.json"
    before = (store.read_bytes(), kek_file.read_bytes())
    name, pin = pins["admin"]
    proc = demo.run("keys", "change-kek", role=None, STSVEND_OPERATOR=name, STSVEND_PIN=pin,
                    STSVEND_NEW_KEK=NEW_KEK)  # fmt: skip
    assert proc.returncode == exit_code_for("keystore_mode") == 4, proc.stderr
    assert "demo keystore" in proc.stderr and "generated" in proc.stderr
    assert (store.read_bytes(), kek_file.read_bytes()) == before


def test_no_keystore_yet_is_refused(fresh: Cli) -> None:
    fresh.ok("init", "--admin", "admin", role=None, STSVEND_PIN=PINS["admin"])
    proc = fresh.run("keys", "change-kek", STSVEND_NEW_KEK=NEW_KEK)
    assert proc.returncode == exit_code_for("keystore_file") and "no keystore" in proc.stderr
    assert not (fresh.data_dir / "keystore.json").exists()


def test_a_production_keystore(fresh: Cli, tmp_path: Path) -> None:
    prod = fresh
    prod.ok("init", "--admin", "admin", role=None, STSVEND_PIN=PINS["admin"])
    key_file = tmp_path / "production.toml"
    key_file.write_text(key_file_text(  # published test keys are refused as production keys
        production_entry(sgc="123456", krn=1),
        production_entry(sgc="123457", krn=1, dkga="04", key=PRODUCTION_160_KEY),
    ))  # fmt: skip
    prod.ok("keys", "import", str(key_file))
    assert json.loads((prod.data_dir / "keystore.json").read_text())["mode"] == "production"
    prod.ok("log", "verify")  # opens the keystore: the token log key is made now

    data = prod.json("keys", "change-kek", STSVEND_NEW_KEK_PASSPHRASE=NEW_PASSPHRASE)
    assert data["mode"] == "production" and data["keys"] == 2
    new = {"STSVEND_KEK": "", "STSVEND_KEK_PASSPHRASE": NEW_PASSPHRASE}
    listed = prod.json("keys", "list", **new)
    assert {k["test"] for k in listed} == {False}
    assert prod.json("log", "verify", **new)["ok"] is True
    assert prod.run("keys", "list").returncode == exit_code_for("kek")
