"""The demo keyset: the published STS test vending keys, as a TEST keystore.

The keys are the test keys of the public STS material (``docs/sts.md`` §11; the
compliance tests of NectarAPI/tokens-service and the STSCompliancePOS Edition-2 set use them):

* DKGA02 ``abababababababab`` for SGC 123456 KRN 1, as a VUDK and as a VDDK (so a demo meter can
  be commissioned from its default key to its unique key);
* DKGA02 ``9494949494949494`` as SGC 123456 KRN 2 (a second key revision: a KRN change, or the
  target of the demo's 1993 → 2014 rollover);
* DKGA04 ``abababababababab949494949494949401234567`` for SGC 123457: KRN 1 (any base date, EA07
  and EA11) and KRN 4 for base date 2014 (the rollover case of the published vectors).

Everything here is TEST: the keys are public, so these keystores may use a KEK generated on
first use and kept beside them in the data directory (``demo-kek.hex``, mode 0600).

>>> [r.key_id for r in demo_key_file().records]
['123456/1/VUDK', '123456/1/VDDK', '123456/2/VUDK', '123457/1/VUDK', '123457/4/VUDK']
>>> demo_key_file().test
True
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from stsvend.keystore.errors import KekError, KeystoreFileError
from stsvend.keystore.files import locked, sweep_temp_files, temp_files
from stsvend.keystore.kek import KekSource, create_kek_file
from stsvend.keystore.keyfile import KeyFile, parse_key_file
from stsvend.keystore.module import SoftwareSecurityModule
from stsvend.keystore.sealed import SealedKeystore

__all__ = [
    "DEMO_KEK_FILE",
    "DEMO_KEYSTORE_FILE",
    "DEMO_KEY_FILE_TEXT",
    "demo_key_file",
    "demo_security_module",
    "open_demo_keystore",
]

DEMO_KEK_FILE = "demo-kek.hex"
DEMO_KEYSTORE_FILE = "demo-keystore.json"

#: The demo keyset in the key file format (``docs/keyfile-format.md``).
DEMO_KEY_FILE_TEXT = """\
# The published STS test vending keys (TEST ONLY: never load these into a live system).
# Source: docs/sts.md section 11 (NectarAPI/tokens-service compliance tests,
# STSCompliancePOS Edition-2 set); KCVs computed by the rules in docs/keyfile-format.md.
format = "stsvend-keys/1"
test = true
issuer = "published STS test keys"

[[keys]]
sgc = "123456"
krn = 1
dkga = "02"
type = "VUDK"
key = "abababababababab"
kcv = "C33F45"
label = "published DKGA02 test key"

[[keys]]
sgc = "123456"
krn = 1
dkga = "02"
type = "VDDK"
key = "abababababababab"
kcv = "C33F45"
label = "published DKGA02 test key, as the default key for commissioning"

[[keys]]
sgc = "123456"
krn = 2
dkga = "02"
type = "VUDK"
key = "9494949494949494"
kcv = "31CE7A"
label = "second published DKGA02 test key"

[[keys]]
sgc = "123457"
krn = 1
dkga = "04"
type = "VUDK"
key = "abababababababab949494949494949401234567"
kcv = "0F353D"
label = "published DKGA04 160-bit test key"

[[keys]]
sgc = "123457"
krn = 4
dkga = "04"
type = "VUDK"
key = "abababababababab949494949494949401234567"
kcv = "0F353D"
base_date = 2014
label = "published DKGA04 test key, base date 2014 (rollover target)"
"""


def demo_key_file() -> KeyFile:
    """The demo keyset, parsed and KCV-checked."""
    return parse_key_file(DEMO_KEY_FILE_TEXT)


def _demo_kek(folder: Path, random_bytes: Callable[[int], bytes]) -> KekSource:
    path = folder / DEMO_KEK_FILE
    if not path.exists() or temp_files(path):
        # The KEK file is written aside in the clear: a creator killed before its link leaves
        # that copy, removed here under the lock that every creator holds.
        with locked(path):
            sweep_temp_files(path)
            if not path.exists():
                create_kek_file(path, KekSource.generate(random_bytes))
    return KekSource.from_file(path, generated=True)


def open_demo_keystore(
    data_dir: str | Path, *, random_bytes: Callable[[int], bytes] = os.urandom
) -> SealedKeystore:
    """The demo TEST keystore in ``data_dir``, created with a generated KEK on first use.

    Safe to call again and from several processes: an existing KEK file and keystore are
    reused, and the demo keys are imported only where missing.
    """
    folder = Path(data_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / DEMO_KEYSTORE_FILE
    if path.exists() and not (folder / DEMO_KEK_FILE).exists():
        raise KekError(
            f"the demo keystore {path} exists but its KEK file {DEMO_KEK_FILE} is gone; "
            "delete the demo keystore to start the demo afresh"
        )
    kek = _demo_kek(folder, random_bytes)
    try:
        store = SealedKeystore.create(path, test=True, kek=kek, random_bytes=random_bytes)
    except KeystoreFileError:
        store = SealedKeystore.open(path, kek, random_bytes=random_bytes)
    store.import_key_file(demo_key_file())
    return store


def demo_security_module(data_dir: str | Path) -> SoftwareSecurityModule:
    """A security module over the demo keystore (see :func:`open_demo_keystore`)."""
    return open_demo_keystore(data_dir).security_module()
