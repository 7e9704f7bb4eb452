"""One function reads a KEK from the environment, for the installation's KEK (``STSVEND_``)
and the one a change of KEK moves to (``STSVEND_NEW_``), with the same rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsvend.keystore import KekError, KekSource, kek_from_env
from stsvend.keystore.kek import ENV_NEW_PREFIX, ENV_PREFIX, KdfParams, derive_kek

PREFIXES = (ENV_PREFIX, ENV_NEW_PREFIX)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_each_source(prefix: str, tmp_path: Path) -> None:
    raw = kek_from_env({f"{prefix}KEK": "ab" * 32}, prefix=prefix)
    assert raw.kind == "raw" and derive_kek(raw, KdfParams.raw()).reveal() == b"\xab" * 32
    path = tmp_path / "kek.hex"
    path.write_text("cd" * 32 + "\n")
    path.chmod(0o600)
    from_file = kek_from_env({f"{prefix}KEK_FILE": str(path)}, prefix=prefix)
    assert from_file.material() == b"\xcd" * 32 and not from_file.generated
    phrase = kek_from_env({f"{prefix}KEK_PASSPHRASE": "a long passphrase"}, prefix=prefix)
    assert phrase.kind == "passphrase"
    # The other prefix's variables are not this one's.
    other = ENV_NEW_PREFIX if prefix == ENV_PREFIX else ENV_PREFIX
    with pytest.raises(KekError, match=f"no key-encryption key: set {prefix}KEK "):
        kek_from_env({f"{other}KEK": "ab" * 32}, prefix=prefix)


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KEK": "ab" * 31}, "{p}KEK must be 64 hexadecimal digits"),
        ({"KEK": "zz" * 32}, "{p}KEK must be 64 hexadecimal digits"),
        ({"KEK_PASSPHRASE": "short"}, "{p}KEK_PASSPHRASE: a KEK passphrase has at least 8"),
        ({"KEK_FILE": "/nonexistent/kek.hex"}, "no KEK file at /nonexistent/kek.hex"),
        ({"KEK": "ab" * 32, "KEK_PASSPHRASE": "a long passphrase"},
         "set only one of {p}KEK, {p}KEK_PASSPHRASE"),
    ],
)  # fmt: skip
def test_the_same_refusals(prefix: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(KekError) as info:
        kek_from_env({prefix + name: value for name, value in env.items()}, prefix=prefix)
    assert info.value.message.startswith(message.format(p=prefix))


def test_an_empty_variable_is_unset_and_the_label_names_the_kek() -> None:
    env = {"STSVEND_NEW_KEK": "", "STSVEND_NEW_KEK_FILE": ""}
    with pytest.raises(KekError, match=r"^no new key-encryption key: set STSVEND_NEW_KEK "):
        kek_from_env(env, prefix=ENV_NEW_PREFIX, label="new key-encryption key")


def test_from_environment_is_the_default_prefix() -> None:
    env = {"STSVEND_KEK": "ef" * 32, "STSVEND_NEW_KEK": "01" * 32}
    assert KekSource.from_environment(env).material() == kek_from_env(env).material()
    assert kek_from_env(env).material() == b"\xef" * 32
