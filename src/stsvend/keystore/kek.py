"""The key-encryption key (KEK) that seals vending keys at rest.

A KEK is 32 bytes (AES-256).  It comes from one of:

* a **passphrase**, stretched with scrypt (stdlib :func:`hashlib.scrypt`) under the salt and cost
  parameters stored in the keystore header (default N = 2**17, r = 8, p = 1: 128 MiB, about a
  third of a second, the OWASP minimum for scrypt);
* **raw key bytes**: 64 hexadecimal digits in ``STSVEND_KEK``, or in a KEK file (one line,
  mode 0600; a file readable by group or others is refused, as ssh refuses such keys);
* a **generated** KEK, only for the TEST demo keyset: 32 random bytes written to a KEK file in
  the data directory.  A production keystore never accepts a generated KEK.

>>> source = KekSource.from_hex("00" * 32)
>>> source, source.kind, source.generated
(KekSource(kind='raw'), 'raw', False)
>>> derive_kek(source, KdfParams.raw()).reveal() == bytes(32)
True
>>> fast = KdfParams.scrypt(salt=bytes(16), n=2**10)
>>> len(derive_kek(KekSource.passphrase("correct horse battery staple"), fast))
32
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from attrs import field, frozen

from stsvend.keystore.errors import KekError
from stsvend.keystore.files import create_exclusive
from stsvend.keystore.records import SecretBytes

__all__ = [
    "ENV_KEK",
    "ENV_KEK_FILE",
    "ENV_KEK_PASSPHRASE",
    "ENV_NEW_PREFIX",
    "ENV_PREFIX",
    "KEK_BYTES",
    "KdfParams",
    "KekSource",
    "create_kek_file",
    "derive_kek",
    "kek_from_env",
]

KEK_BYTES = 32
#: The prefix of the installation's KEK variables; ``ENV_NEW_PREFIX``: the KEK to change to.
ENV_PREFIX = "STSVEND_"
ENV_NEW_PREFIX = "STSVEND_NEW_"
ENV_KEK = f"{ENV_PREFIX}KEK"
ENV_KEK_FILE = f"{ENV_PREFIX}KEK_FILE"
ENV_KEK_PASSPHRASE = f"{ENV_PREFIX}KEK_PASSPHRASE"

_SCRYPT_DEFAULT_N = 2**17
# Bounds on stored parameters: a keystore header must not make opening take forever, nor
# accept a cost too low to matter (tests use 2**10 explicitly).
_SCRYPT_N_RANGE = (2**10, 2**20)
_SCRYPT_R_RANGE = (1, 32)
_SCRYPT_P_RANGE = (1, 16)
_MIN_PASSPHRASE = 8

KekKind = Literal["passphrase", "raw"]


@frozen(repr=False, eq=False)
class KekSource:
    """What an operator hands over to open a keystore: a passphrase or raw KEK bytes."""

    kind: KekKind
    _secret: SecretBytes
    #: True only for a KEK this program made up (the demo keyset's); never for production.
    generated: bool = False

    def __repr__(self) -> str:
        return f"KekSource(kind={self.kind!r})"

    __str__ = __repr__

    @classmethod
    def passphrase(cls, text: str) -> KekSource:
        if not isinstance(text, str) or len(text) < _MIN_PASSPHRASE:
            raise KekError(f"a KEK passphrase has at least {_MIN_PASSPHRASE} characters")
        return cls("passphrase", SecretBytes(text.encode("utf-8")))

    @classmethod
    def from_hex(cls, text: str, *, generated: bool = False) -> KekSource:
        cleaned = text.strip() if isinstance(text, str) else ""
        try:
            raw = bytes.fromhex(cleaned)
        except ValueError:
            raw = b""
        if len(raw) != KEK_BYTES:
            raise KekError(f"a raw KEK is {2 * KEK_BYTES} hexadecimal digits")
        return cls("raw", SecretBytes(raw), generated)

    @classmethod
    def generate(cls, random_bytes: Callable[[int], bytes] = os.urandom) -> KekSource:
        """A fresh random KEK (marked ``generated``: TEST keystores only)."""
        return cls("raw", SecretBytes(random_bytes(KEK_BYTES)), True)

    @classmethod
    def from_file(cls, path: str | Path, *, generated: bool = False) -> KekSource:
        """Read a KEK file (64 hex digits); refuse one that others can read.

        ``generated`` marks a KEK file this program made itself (the demo keyset's).
        """
        target = Path(path)
        try:
            mode = target.stat().st_mode
            text = target.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KekError(f"no KEK file at {target}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KekError(f"cannot read the KEK file {target}: {exc.__class__.__name__}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KekError(
                f"the KEK file {target} is open to group or others "
                f"(mode {stat.S_IMODE(mode):04o}); make it 0600"
            )
        try:
            return cls.from_hex(text, generated=generated)
        except KekError:
            raise KekError(f"the KEK file {target} does not hold 64 hex digits") from None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> KekSource:
        """The KEK named by exactly one of STSVEND_KEK, STSVEND_KEK_FILE, STSVEND_KEK_PASSPHRASE
        (:func:`kek_from_env` with its defaults).

        >>> KekSource.from_environment({"STSVEND_KEK": "11" * 32}).kind
        'raw'
        """
        return kek_from_env(environ)

    def material(self) -> bytes:
        """The passphrase bytes or raw KEK, for :func:`derive_kek` only."""
        return self._secret.reveal()


def kek_from_env(
    environ: Mapping[str, str] | None = None,
    *,
    prefix: str = ENV_PREFIX,
    label: str = "key-encryption key",
) -> KekSource:
    """The KEK named by exactly one of ``<prefix>KEK`` (64 hex digits), ``<prefix>KEK_FILE``
    (a KEK file, mode 0600) and ``<prefix>KEK_PASSPHRASE``.

    The installation's KEK has the prefix ``STSVEND_``; the KEK a change of KEK moves to has
    ``STSVEND_NEW_`` (``label`` names it in the errors).  An empty variable counts as unset.

    >>> kek_from_env({"STSVEND_NEW_KEK": "11" * 32}, prefix="STSVEND_NEW_").kind
    'raw'
    >>> kek_from_env({}, prefix="STSVEND_NEW_", label="new key-encryption key")
    Traceback (most recent call last):
    ...
    stsvend.keystore.errors.KekError: no new key-encryption key: set STSVEND_NEW_KEK (64 hex \
digits), STSVEND_NEW_KEK_FILE or STSVEND_NEW_KEK_PASSPHRASE
    """
    env = os.environ if environ is None else environ
    raw, file, passphrase = (f"{prefix}{name}" for name in ("KEK", "KEK_FILE", "KEK_PASSPHRASE"))
    present = [name for name in (raw, file, passphrase) if env.get(name)]
    if not present:
        raise KekError(f"no {label}: set {raw} (64 hex digits), {file} or {passphrase}")
    if len(present) > 1:
        raise KekError(f"set only one of {', '.join(present)}")
    name = present[0]
    if name == raw:
        try:
            return KekSource.from_hex(env[name])
        except KekError:
            raise KekError(f"{raw} must be 64 hexadecimal digits") from None
    if name == file:
        return KekSource.from_file(env[name])
    try:
        return KekSource.passphrase(env[name])
    except KekError as exc:
        raise KekError(f"{passphrase}: {exc.message}") from None


def _bounded(name: str, value: Any, bounds: tuple[int, int]) -> int:
    if type(value) is not int or not bounds[0] <= value <= bounds[1]:
        raise KekError(f"scrypt {name} must be an integer in {bounds[0]}..{bounds[1]}")
    return value


@frozen
class KdfParams:
    """How a keystore's KEK is obtained, as stored (in the clear) in its header."""

    kind: KekKind
    salt: bytes = b""
    n: int = 0
    r: int = 0
    p: int = 0
    #: "explicit" or "generated": who chose the KEK (production requires explicit).
    origin: str = field(default="explicit")

    @classmethod
    def raw(cls, *, origin: str = "explicit") -> KdfParams:
        return cls("raw", origin=origin)

    @classmethod
    def scrypt(cls, salt: bytes, n: int = _SCRYPT_DEFAULT_N, r: int = 8, p: int = 1) -> KdfParams:
        if not isinstance(salt, bytes) or len(salt) < 16:
            raise KekError("the scrypt salt is at least 16 bytes")
        n = _bounded("n", n, _SCRYPT_N_RANGE)
        if n & (n - 1):
            raise KekError("scrypt n must be a power of two")
        return cls(
            "passphrase",
            salt,
            n,
            _bounded("r", r, _SCRYPT_R_RANGE),
            _bounded("p", p, _SCRYPT_P_RANGE),
        )

    def as_dict(self) -> dict[str, Any]:
        if self.kind == "raw":
            return {"kind": "raw", "origin": self.origin}
        return {"kind": "scrypt", "salt": self.salt.hex(), "n": self.n, "r": self.r, "p": self.p}

    @classmethod
    def from_dict(cls, data: Any) -> KdfParams:
        if not isinstance(data, Mapping):
            raise KekError("the keystore header's kek entry is not an object")
        kind = data.get("kind")
        if kind == "raw":
            origin = data.get("origin")
            if origin not in ("explicit", "generated"):
                raise KekError("the keystore header's kek origin is not valid")
            return cls.raw(origin=origin)
        if kind == "scrypt":
            try:
                salt = bytes.fromhex(data["salt"])
                return cls.scrypt(salt, data["n"], data["r"], data["p"])
            except (KeyError, TypeError, ValueError):
                raise KekError("the keystore header's scrypt parameters are not valid") from None
        raise KekError("the keystore header names an unknown KEK kind")


def derive_kek(source: KekSource, params: KdfParams) -> SecretBytes:
    """The 32-byte KEK from what the operator gave and what the keystore header says."""
    if source.kind != params.kind:
        wanted = "a passphrase" if params.kind == "passphrase" else "a raw KEK (64 hex digits)"
        raise KekError(f"this keystore is sealed under {wanted}")
    if params.kind == "raw":
        return SecretBytes(source.material())
    memory = 128 * params.r * params.n * 2  # scrypt needs ~128·r·N bytes; leave headroom
    key = hashlib.scrypt(
        source.material(),
        salt=params.salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=memory,
        dklen=KEK_BYTES,
    )
    return SecretBytes(key)


def create_kek_file(path: str | Path, source: KekSource) -> None:
    """Write a raw KEK to a new file, mode 0600, refusing to overwrite one that exists.

    The file appears whole or not at all, so a process that finds it never reads it half-written.
    """
    if source.kind != "raw":
        raise KekError("only a raw KEK is kept in a file")
    target = Path(path)
    if not create_exclusive(target, (source.material().hex() + "\n").encode("ascii")):
        raise KekError(f"a KEK file already exists at {target}")
