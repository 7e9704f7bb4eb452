"""``stsvend.keystore``: custody of vending keys.

Vending keys arrive in a TOML key file (``docs/keyfile-format.md``), are checked against their
key check values, kept sealed at rest under a key-encryption key (AES-256-GCM; the KEK from a
passphrase via scrypt, from ``STSVEND_KEK``, or generated for the TEST demo keyset only), and are
used only through a :class:`SecurityModule` that works at token level.

API summary (everything below is importable from ``stsvend.keystore``)
----------------------------------------------------------------------

Security module (what the vending services call; never returns a vending or decoder key)::

    SecurityModule                           typing.Protocol (runtime-checkable)
      .test -> bool                          TEST keystore: mark receipts, log rows, listings
      .key_records() -> tuple[KeyRecord]     sgc, krn, dkga, vending_key_type, kcv, test, ...
      .key_record_for(key_data) -> KeyRecord the vending key serving this key data
      .encode_token(meter, key_data, token_class, subclass, fields) -> str
      .key_change_tokens(meter, current, new, *, rollover, with_sgc=False) -> tuple[str, ...]
      .decode_token(meter, key_data, token) -> sts.DecodedToken   (key sections withheld)
      .decoder_key_check_value(meter, key_data) -> str            6 hex digits, for the log
    SoftwareSecurityModule(keys, *, test, cache_size=100_000)     in-memory implementation
      .from_key_file(key_file)

Choice of vending key: (key_data.sgc, key_data.krn, VendingKeyType.for_key_type(key_data.
key_type)); its DKGA is the record's.  Refusals (KeystoreError subclasses): no such key
(KeyNotFoundError), a credit token for a KT 1 (default key) meter, key change sections through
encode_token, rollover flag not matching a base date change, a base date the key does not serve
(KeyUseError).

Keys, files and KEKs::

    KeyRecord(sgc, krn, dkga, vending_key_type, kcv, test, ken=None, base_date=None, label="")
      .key_id "123456/1/VUDK"   .identity (sgc, krn, type)   .as_dict()
    VendingKeyType.VUDK/VDDK/VCDK/VITK   .key_type   .for_key_type(kt)   .parse("VUDK")
    parse_key_file(text) / load_key_file(path) -> KeyFile(test, entries, issuer)
    KekSource.passphrase(text) / .from_hex(hex) / .from_file(path) / .from_environment()
    kek_from_env(env, prefix="STSVEND_")   <prefix>KEK / _KEK_FILE / _KEK_PASSPHRASE, one of them
    SealedKeystore.create(path, *, test, kek) / .open(path, kek)
      .records()  .import_key_file(key_file) -> ImportResult  .change_kek(kek)
      .application_key("token-log") -> SecretBytes   a sealed 256-bit secret, made on first use
      .security_module() -> SoftwareSecurityModule   .test   .mode (KeystoreMode)
    open_security_module(path, kek) -> SoftwareSecurityModule       the usual way in
    open_demo_keystore(data_dir) / demo_security_module(data_dir)   TEST keyset, KEK made once
    vending_key_check_value(key, dkga) / decoder_key_check_value(decoder_key)

Published test keys: PUBLISHED_TEST_KEYS (DKGA, KCV, where the repository holds the key);
published_test_key(dkga, kcv) -> PublishedTestKey | None.  A PRODUCTION key file or keystore
refuses them (PublishedTestKeyError).

Errors (``stsvend.keystore.errors``): KeystoreError > KeyFileError > KcvMismatchError,
PublishedTestKeyError;
KekError > WrongKekError; KeystoreFileError; KeystoreModeError; KeyNotFoundError; KeyUseError.

>>> import tempfile
>>> from stsvend import sts
>>> hsm = demo_security_module(tempfile.mkdtemp())
>>> hsm.test, len(hsm.key_records())
(True, 5)
>>> meter = sts.MeterIdentity.parse(None, "00000000000")
>>> data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
>>> hsm.encode_token(meter, data, 0, 0, {"rnd": 5, "tid": 5871715, "amount_field": 1})
'23716100501183194197'
"""

from stsvend.keystore.demo import (
    DEMO_KEK_FILE,
    DEMO_KEY_FILE_TEXT,
    DEMO_KEYSTORE_FILE,
    demo_key_file,
    demo_security_module,
    open_demo_keystore,
)
from stsvend.keystore.errors import (
    KcvMismatchError,
    KekError,
    KeyFileError,
    KeyNotFoundError,
    KeystoreError,
    KeystoreFileError,
    KeystoreModeError,
    KeyUseError,
    PublishedTestKeyError,
    WrongKekError,
)
from stsvend.keystore.kcv import decoder_key_check_value, vending_key_check_value
from stsvend.keystore.kek import KdfParams, KekSource, create_kek_file, kek_from_env
from stsvend.keystore.keyfile import (
    KEY_FILE_FORMAT,
    KeyFile,
    KeyFileEntry,
    load_key_file,
    parse_key_file,
)
from stsvend.keystore.module import SecurityModule, SoftwareSecurityModule
from stsvend.keystore.published import PUBLISHED_TEST_KEYS, PublishedTestKey, published_test_key
from stsvend.keystore.records import KeyRecord, SecretBytes, VendingKeyType
from stsvend.keystore.sealed import (
    KEYSTORE_FORMAT,
    ImportResult,
    KeystoreMode,
    SealedKeystore,
    open_security_module,
)

__all__ = [
    "DEMO_KEK_FILE",
    "DEMO_KEYSTORE_FILE",
    "DEMO_KEY_FILE_TEXT",
    "KEYSTORE_FORMAT",
    "KEY_FILE_FORMAT",
    "PUBLISHED_TEST_KEYS",
    "ImportResult",
    "KcvMismatchError",
    "KdfParams",
    "KekError",
    "KekSource",
    "KeyFile",
    "KeyFileEntry",
    "KeyFileError",
    "KeyNotFoundError",
    "KeyRecord",
    "KeyUseError",
    "KeystoreError",
    "KeystoreFileError",
    "KeystoreMode",
    "KeystoreModeError",
    "PublishedTestKey",
    "PublishedTestKeyError",
    "SealedKeystore",
    "SecretBytes",
    "SecurityModule",
    "SoftwareSecurityModule",
    "VendingKeyType",
    "WrongKekError",
    "create_kek_file",
    "decoder_key_check_value",
    "demo_key_file",
    "demo_security_module",
    "kek_from_env",
    "load_key_file",
    "open_demo_keystore",
    "open_security_module",
    "parse_key_file",
    "published_test_key",
    "vending_key_check_value",
]
