"""``stsvend vend --server`` against a real scripted HTTP server: the receipt as a local sale
prints it, the key from the environment or a 0600 file only, and every refusal one line."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from stsvend_cli.main import run
from stsvend_cli.remote_sale import OUTBOX_FILE
from tests.client.scripted import KEY, Step, problem, receipt_doc, scripted

CONFIRMED = {"purchase_id": "p-1", "advice": "confirmation", "state": "confirmed"}
TOKEN = "svs_" + "5" * 64
SESSION = {"session": TOKEN, "operator": "ann", "role": "clerk",
           "expires_at": "2026-01-01T18:00:00+02:00", "idle_timeout_seconds": 900}  # fmt: skip


def _stsvend(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Run ``stsvend ARGS`` in this process with only these STSVEND_* variables."""
    wanted = {"STSVEND_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120", **env}
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("STSVEND_")}
    overrides.update(wanted)
    with CliRunner().isolation(env=overrides) as (out, err, _):
        code = run(list(args))
        result = code, out.getvalue().decode(), err.getvalue().decode()
    assert "Traceback" not in result[1] + result[2]
    return result


def test_a_sale_through_the_server_prints_the_receipt_and_confirms(tmp_path: Path) -> None:
    with scripted(Step(201, receipt_doc("p-1"), path="POST /v1/purchases"),
                  Step(200, CONFIRMED, path="POST /v1/purchases/p-1/confirm")) as (url, script):
        code, out, err = _stsvend(tmp_path, "vend", "01000000017", "50.00", "--server", url,
                                  "--request-id", "p-1", STSVEND_TERMINAL_KEY=KEY)  # fmt: skip
    assert code == 0, err
    assert "2222 2222 2222 2222 2222" in out and "1111 1111 1111 1111 1111" in out
    assert out.index("2222 2222") < out.index("1111 1111")  # the key change token first
    assert "City Power" in out and "SALE" in out
    assert err == "" and KEY not in out
    assert [a.authorization for a in script.asked] == [f"Bearer {KEY}"] * 2
    assert [a.session for a in script.asked] == [None, None]  # no operator: the terminal's
    with sqlite3.connect(tmp_path / "data" / OUTBOX_FILE) as db:
        assert db.execute("SELECT purchase_id, state FROM advice").fetchall() == [("p-1", "done")]


def test_an_operator_named_is_logged_in_for_the_sale_and_out(tmp_path: Path) -> None:
    with scripted(Step(201, SESSION, path="POST /v1/sessions"),
                  Step(201, receipt_doc("p-1"), path="POST /v1/purchases"),
                  Step(200, CONFIRMED, path="POST /v1/purchases/p-1/confirm"),
                  Step(204, b"", path="DELETE /v1/sessions/current")) as (url, script):
        code, out, err = _stsvend(tmp_path, "vend", "01000000017", "50.00", "--server", url,
                                  "--request-id", "p-1", STSVEND_TERMINAL_KEY=KEY,
                                  STSVEND_OPERATOR="ann", STSVEND_PIN="482913")  # fmt: skip
    assert code == 0 and err == "", err
    assert "SALE" in out and "482913" not in out and TOKEN not in out
    assert script.asked[0].body == {"username": "ann", "pin": "482913"}
    assert script.asked[0].session is None
    assert [a.session for a in script.asked[1:]] == [TOKEN] * 3
    assert [a.authorization for a in script.asked] == [f"Bearer {KEY}"] * 4


def test_a_pin_to_replace_is_taken_as_a_local_login_takes_it(tmp_path: Path) -> None:
    must = Step(403, problem("pin_change_required", 403, "choose a new PIN"))
    with scripted(must, Step(201, SESSION), Step(201, receipt_doc("p-1")), Step(200, CONFIRMED),
                  Step(204, b"")) as (url, script):
        code, _out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                   STSVEND_TERMINAL_KEY=KEY, STSVEND_OPERATOR="ann",
                                   STSVEND_PIN="482913", STSVEND_NEW_PIN="739184")  # fmt: skip
    assert code == 0, err
    assert script.asked[1].body == {"username": "ann", "pin": "482913", "new_pin": "739184"}
    with scripted(must) as (url, script):
        code, _out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                   STSVEND_TERMINAL_KEY=KEY, STSVEND_OPERATOR="ann",
                                   STSVEND_PIN="482913")  # fmt: skip
    assert code == 6 and "give it in STSVEND_NEW_PIN" in err and len(script.asked) == 1


def test_a_wrong_pin_sells_nothing(tmp_path: Path) -> None:
    wrong = Step(403, problem("permission", 403, "unknown operator or wrong PIN"))
    with scripted(wrong) as (url, script):
        code, out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                  STSVEND_TERMINAL_KEY=KEY, STSVEND_OPERATOR="ann",
                                  STSVEND_PIN="111111")  # fmt: skip
    assert (code, out) == (6, "") and "wrong PIN" in err and "111111" not in err
    assert [a.path for a in script.asked] == ["/v1/sessions"]
    with scripted() as (url, script):  # no PIN, and no terminal to ask at: nothing is sent
        code, _out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                   STSVEND_TERMINAL_KEY=KEY, STSVEND_OPERATOR="ann")  # fmt: skip
    assert code == 3 and "no PIN" in err and script.asked == []


def test_a_refused_sale_still_logs_the_operator_out(tmp_path: Path) -> None:
    with scripted(Step(201, SESSION), Step(402, problem("insufficient_funds", 402, "no float")),
                  Step(401, problem("session_expired", 401, "over"))) as (url, script):
        code, _out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                   STSVEND_TERMINAL_KEY=KEY, STSVEND_OPERATOR="ann",
                                   STSVEND_PIN="482913")  # fmt: skip
    assert code == 7 and err == "error: the server refused (insufficient_funds): no float\n"
    assert [f"{a.method} {a.path}" for a in script.asked][-1] == "DELETE /v1/sessions/current"


def test_json_is_the_servers_document(tmp_path: Path) -> None:
    with scripted(Step(201, receipt_doc("p-1")), Step(200, CONFIRMED)) as (url, _s):
        code, out, err = _stsvend(tmp_path, "vend", "01000000017", "50.00", "--server", url,
                                  "--json", STSVEND_TERMINAL_KEY=KEY)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["sale_point"]["float_left"] == 20_000


def test_the_key_file_must_be_private(tmp_path: Path) -> None:
    keyfile = tmp_path / "terminal.key"
    keyfile.write_text(KEY + "\n")
    keyfile.chmod(0o644)
    with scripted(Step(201, receipt_doc("p-1")), Step(200, CONFIRMED)) as (url, script):
        code, _out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                   STSVEND_TERMINAL_KEY_FILE=str(keyfile))  # fmt: skip
        assert (code, script.asked) == (8, []) and "make it 0600" in err
        keyfile.chmod(0o600)
        code, _out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                   STSVEND_TERMINAL_KEY_FILE=str(keyfile))  # fmt: skip
    assert code == 0, err
    assert script.asked[0].authorization == f"Bearer {KEY}"


def test_no_key_is_a_configuration_error_and_nothing_is_sent(tmp_path: Path) -> None:
    with scripted() as (url, script):
        code, _out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url)
    assert code == 8 and "STSVEND_TERMINAL_KEY" in err and script.asked == []
    (tmp_path / "config.toml").write_text(f'terminal_key = "{KEY}"\n')
    code, _out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", "http://x",
                               STSVEND_CONFIG=str(tmp_path / "config.toml"))  # fmt: skip
    assert code == 8 and "taken only from STSVEND_TERMINAL_KEY" in err and KEY not in err


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [(402, "insufficient_funds", 7), (401, "unauthenticated", 6), (404, "not_found", 5)],
)
def test_a_refusal_is_one_line_and_its_exit_code(tmp_path: Path, status: int, code: str,
                                                 exit_code: int) -> None:  # fmt: skip
    with scripted(Step(status, problem(code, status, "said the server"))) as (url, _s):
        got, out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                 STSVEND_TERMINAL_KEY=KEY)  # fmt: skip
    assert (got, out) == (exit_code, "")
    assert err == f"error: the server refused ({code}): said the server\n"


def test_no_answer_names_the_id_to_ask_again_with(tmp_path: Path) -> None:
    busy = Step(503, problem("storage", 503, "ask again"))
    with scripted(*[busy] * 8) as (url, _s):
        code, out, err = _stsvend(tmp_path, "vend", "01000000017", "50", "--server", url,
                                  "--request-id", "till-1-0007",
                                  STSVEND_TERMINAL_KEY=KEY)  # fmt: skip
    assert (code, out) == (8, "")
    assert "--request-id till-1-0007" in err and "Do not sell again" in err


def test_reprint_through_the_server(tmp_path: Path) -> None:
    copy = receipt_doc("p-1") | {"copy": True, "mark": "COPY"}
    with scripted(Step(200, copy, path="GET /v1/receipts/last"),
                  Step(200, copy, path="GET /v1/receipts/7")) as (url, script):
        code, out, err = _stsvend(tmp_path, "reprint", "last", "--server", url,
                                  STSVEND_TERMINAL_KEY=KEY)  # fmt: skip
        assert code == 0, err
        assert "COPY" in out and "2222 2222 2222 2222 2222" in out
        code, out, err = _stsvend(tmp_path, "reprint", "7", "--server", url, "--json",
                                  STSVEND_TERMINAL_KEY=KEY)  # fmt: skip
        assert code == 0 and json.loads(out)["copy"] is True
        code, _out, err = _stsvend(tmp_path, "reprint", "seven", "--server", url,
                                   STSVEND_TERMINAL_KEY=KEY)  # fmt: skip
    assert code == 3 and "RECEIPT must be a whole number" in err
    assert len(script.asked) == 2


def test_no_option_takes_the_key_on_the_command_line(tmp_path: Path) -> None:
    for command in ("vend", "reprint"):
        code, out, _err = _stsvend(tmp_path, command, "--help")
        assert code == 0 and "--server" in out
        assert "--key" not in out and "--terminal-key" not in out
