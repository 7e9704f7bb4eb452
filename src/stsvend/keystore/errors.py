"""Errors of the key custody layer: the ``KeystoreError`` branch of :class:`~stsvend.StsError`.

::

    KeystoreError                  key custody refused or failed              code "keystore"
    ├── KeyFileError               a TOML key file is malformed               code "key_file"
    │   ├── KcvMismatchError       a key's check value does not match         code "kcv"
    │   └── PublishedTestKeyError  a published test key marked PRODUCTION
    │                                                         code "published_test_key"
    ├── KekError                   no key-encryption key, or a malformed one  code "kek"
    │   └── WrongKekError          the KEK does not open this keystore        code "wrong_kek"
    ├── KeystoreFileError          the sealed keystore is missing or damaged  code "keystore_file"
    ├── KeystoreModeError          TEST and PRODUCTION keys would mix         code "keystore_mode"
    ├── KeyNotFoundError           no vending key serves this key data        code "key_not_found"
    └── KeyUseError                the module refuses this use of a key       code "key_use"

No message of these errors ever contains key material: they name a key by its identity
(SGC, KRN, vending key type) and, at most, its key check value.

>>> from stsvend.errors import StsError
>>> issubclass(WrongKekError, StsError), WrongKekError().code
(True, 'wrong_kek')
"""

from __future__ import annotations

from stsvend.errors import StsError

__all__ = [
    "KcvMismatchError",
    "KekError",
    "KeyFileError",
    "KeyNotFoundError",
    "KeyUseError",
    "KeystoreError",
    "KeystoreFileError",
    "KeystoreModeError",
    "PublishedTestKeyError",
    "WrongKekError",
]


class KeystoreError(StsError):
    code = "keystore"
    default_message = "the key store refused the request"


class KeyFileError(KeystoreError, ValueError):
    code = "key_file"
    default_message = "the key file is not valid"


class KcvMismatchError(KeyFileError):
    code = "kcv"
    default_message = "a key's check value does not match the key: the whole file is refused"


class PublishedTestKeyError(KeyFileError):
    """A PRODUCTION key file holds a published STS test key (its KCV is in the published table).

    Anyone holding the public test material can make tokens under such a key, so it never goes
    into a production keystore; ``docs/keyfile-format.md`` says what to do instead.
    """

    code = "published_test_key"
    default_message = (
        "a published STS test key cannot be imported as a production key; nothing was imported"
    )


class KekError(KeystoreError):
    code = "kek"
    default_message = "no usable key-encryption key (set STSVEND_KEK or give a passphrase)"


class WrongKekError(KekError):
    code = "wrong_kek"
    default_message = "the key-encryption key does not open this keystore; nothing was changed"


class KeystoreFileError(KeystoreError):
    code = "keystore_file"
    default_message = "the sealed keystore file is missing, damaged or tampered with"


class KeystoreModeError(KeystoreError):
    code = "keystore_mode"
    default_message = "TEST and PRODUCTION keys cannot be mixed in one keystore"


class KeyNotFoundError(KeystoreError, LookupError):
    code = "key_not_found"
    default_message = "no vending key in the keystore serves this meter's key data"


class KeyUseError(KeystoreError):
    code = "key_use"
    default_message = "the security module refuses this use of the key"
