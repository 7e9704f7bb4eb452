"""The tester's commands run as a user runs them: a subprocess of the installed ``stsvend``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.vectors import token_cases

STSVEND = [sys.executable, "-m", "stsvend_cli"]
DERIVE = ["--drn", "00000000000", "--sgc", "123456", "--ti", "1", "--krn", "1"]


def run(args: list[str], stdin: str = "", env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        STSVEND + args, input=stdin, capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def vk_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "vk.hex"
    path.write_text("abababababababab\n")
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_encode_jsonl_reproduces_every_vector_in_order(workers: str) -> None:
    cases = token_cases()
    stdin = "".join(
        json.dumps({k: v for k, v in c.items() if k not in ("token", "error", "source")}) + "\n"
        for c in cases
    )
    proc = run(["token", "encode", "--jsonl", "--workers", workers], stdin)
    out = _lines(proc.stdout)
    assert [o["id"] for o in out] == [c["id"] for c in cases]
    for case, line in zip(cases, out, strict=True):
        if "error" in case:
            assert set(line["error"]) == {"code", "message"}
        else:
            assert line == {"id": case["id"], "token": case["token"]}
    assert proc.returncode == 1  # the refusal cases failed, as they must
    assert proc.stderr == ""


def test_decode_jsonl_round_trips_every_vector() -> None:
    cases = token_cases(refusals=False)
    stdin = "".join(
        json.dumps({"id": c["id"], "token": c["token"], "ea": c["ea"], "key": c["key"]}) + "\n"
        for c in cases
    )
    proc = run(["token", "decode", "--jsonl"], stdin)
    assert proc.returncode == 0, proc.stderr
    out = _lines(proc.stdout)
    for case, line in zip(cases, out, strict=True):
        assert (line["id"], line["token_class"], line["subclass"]) == (
            case["id"], case["token_class"], case["subclass"]
        )  # fmt: skip
        for name in ("rnd", "tid", "amount_field", "control", "manufacturer_code"):
            if name in case["fields"]:
                assert line["fields"][name] == case["fields"][name]


def test_derive_jsonl() -> None:
    key = token_cases()[0]["key"]
    stdin = json.dumps({"id": "k", "key": key, "ea": "07"}) + "\n"
    proc = run(["key", "derive", "--jsonl"], stdin)
    assert _lines(proc.stdout) == [{"id": "k", "decoder_key": "e653341f9d5bf36f"}]
    assert proc.returncode == 0


def test_bad_lines_get_error_objects_and_the_run_goes_on() -> None:
    good = {"id": "g", "token": "23716100501183194197", "ea": "07",
            "key": {"decoder_key": "e653341f9d5bf36f"}}  # fmt: skip
    stdin = "{not json\n" + json.dumps(good) + "\n[]\n" + json.dumps({**good, "token": "1"}) + "\n"
    proc = run(["token", "decode", "--jsonl"], stdin)
    out = _lines(proc.stdout)
    assert [o.get("error", {}).get("code") for o in out] == ["input", None, "input", "format"]
    assert out[1]["fields"]["tid"] == 5871715
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr


def test_readable_encode_says_computed_not_issued(vk_file: Path) -> None:
    proc = run(["token", "encode", "--class", "0", "--subclass", "0", "--field", "rnd=5",
                "--field", "tid=5871715", "--field", "transfer_amount=1",
                "--key-file", str(vk_file), *DERIVE])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "2371 6100 5011 8319 4197" in proc.stdout
    assert "not issued" in proc.stdout


def test_readable_decode_and_derive_take_keys_from_env_and_stdin(vk_file: Path) -> None:
    proc = run(["token", "decode", "23716100501183194197", "--key-env", "TEST_VK", *DERIVE],
               env={"TEST_VK": "abababababababab"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "5871715" in proc.stdout and "electricity credit" in proc.stdout
    proc = run(["key", "derive", "--key-stdin", *DERIVE], stdin="abababababababab\n")
    assert proc.stdout.strip() == "e653341f9d5bf36f"
    proc = run(["token", "decode", "23716100501183194197", "--decoder-key", "--key-stdin"],
               stdin="e653341f9d5bf36f\n")  # fmt: skip
    assert proc.returncode == 0 and "5871715" in proc.stdout


def test_readable_class_1_needs_no_key() -> None:
    proc = run(["token", "encode", "--class", "1", "--subclass", "0",
                "--field", "control=1", "--field", "manufacturer_code=0"])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    digits = proc.stdout.split("  ")[0].replace(" ", "")
    proc = run(["token", "decode", digits, "--no-key"])
    assert proc.returncode == 0 and "control" in proc.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "env", "message", "code"),
    [
        (["token", "decode", "23716100501183194198", "--key-env", "TEST_VK", *DERIVE], "",
         {"TEST_VK": "abababababababab"}, "CRC does not match", 3),
        (["token", "decode", "2371610050118319419", "--key-env", "TEST_VK", *DERIVE], "",
         {"TEST_VK": "abababababababab"}, "20 decimal digits", 3),
        (["token", "decode", "23716100501183194197", *DERIVE], "", {},
         "exactly one of --key-file", 3),
        (["token", "decode", "23716100501183194197", "--key-env", "NOPE_NOT_SET", *DERIVE], "",
         {}, "not set", 3),
        (["token", "decode", "23716100501183194197", "--key-file", "/nonexistent/k", *DERIVE],
         "", {}, "cannot read the key file", 3),
        (["token", "decode", "23716100501183194197", "--key-stdin", *DERIVE], "zz\n", {},
         "hexadecimal", 3),
        (["token", "decode", "23716100501183194197", "--key-stdin", "--drn", "00000000000"],
         "abababababababab\n", {}, "needs --sgc, --ti, --krn", 3),
        (["token", "decode", "23716100501183194197", "--key-stdin", "--drn", "00000000001",
          "--sgc", "123456", "--ti", "1", "--krn", "1"], "abababababababab\n", {},
         "check digit", 3),
        (["token", "decode", "23716100501183194197", "--key-stdin", *DERIVE, "--krn", "0"],
         "abababababababab\n", {}, "krn is outside 1-9", 4),
        (["token", "decode"], "", {}, "give the 20-digit TOKEN", 3),
        (["token", "encode", "--class", "0"], "", {}, "give --class and --subclass", 3),
        (["token", "encode", "--class", "1", "--subclass", "0", "--field", "control"], "", {},
         "NAME=VALUE", 3),
        (["token", "encode", "--class", "1", "--subclass", "0", "--field", "control=x"], "",
         {}, "control must be an integer", 3),
        (["key", "derive", "--decoder-key", "--key-stdin"], "00\n", {}, "not --decoder-key", 3),
        (["token", "encode", "--class", "5"], "", {}, "Invalid value", 2),
        (["token", "frobnicate"], "", {}, "No such command", 2),
    ],
)  # fmt: skip
def test_every_refusal_is_a_message_and_an_exit_code(
    args: list[str], stdin: str, env: dict[str, str], message: str, code: int
) -> None:
    proc = run(args, stdin, env)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_keys_are_never_taken_from_the_command_line() -> None:
    proc = run(["token", "decode", "23716100501183194197", "--key", "abababababababab"])
    assert proc.returncode == 2 and "No such option" in proc.stderr
