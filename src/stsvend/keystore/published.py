"""The published STS test vending keys, known by their key check values.

These keys are printed in public compliance material and in the test suites of public STS
implementations, so anyone can derive every decoder key under them and make tokens for any meter
that holds one.  They belong in a TEST keystore only; a PRODUCTION key file that holds one is
refused (:class:`~stsvend.keystore.errors.PublishedTestKeyError`).

The table holds each key's DKGA and KCV (``docs/keyfile-format.md`` gives the KCV rules), never
the key, and names where the repository holds the key itself: the demo keyset
(:mod:`stsvend.keystore.demo`) and the test vectors (``vectors/tokens.json``, by case id, with
each case's ``source``).  A test recomputes every KCV from those keys.

A KCV is 24 bits: a production key whose KCV equals one of these by chance (about one key in
four million per entry) is refused too; the key management centre then issues another key.

>>> published_test_key("02", "c33f45").label
'the DKGA02 CTSA01 compliance test key'
>>> published_test_key("04", "C33F45") is None
True
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from stsvend import sts
from stsvend.keystore.errors import PublishedTestKeyError
from stsvend.keystore.kcv import normalise_kcv
from stsvend.keystore.records import KeyRecord

__all__ = [
    "PUBLISHED_TEST_KEYS",
    "PublishedTestKey",
    "published_test_key",
    "refuse_published_test_keys",
]


@frozen
class PublishedTestKey:
    """One published test vending key, as its fingerprint.

    ``dkga`` and ``kcv`` identify it (the KCV by the rule of its DKGA); ``label`` names it
    without its value; ``held_in`` says where this repository holds the key itself.
    """

    dkga: sts.DKGA
    kcv: str
    label: str
    held_in: tuple[str, ...]


#: The published test vending keys, by DKGA and KCV.
PUBLISHED_TEST_KEYS: tuple[PublishedTestKey, ...] = (
    PublishedTestKey(
        sts.DKGA.DKGA02,
        "C33F45",
        "the DKGA02 CTSA01 compliance test key",
        (
            "stsvend.keystore.demo: 123456/1/VUDK and 123456/1/VDDK",
            "vectors/tokens.json: nectar-02-CTSA01-step1 and the other DKGA02 cases",
            "vectors/components.json: dkga02-ctsa01",
        ),
    ),
    PublishedTestKey(
        sts.DKGA.DKGA02,
        "31CE7A",
        "the DKGA02 second demo test key",
        ("stsvend.keystore.demo: 123456/2/VUDK",),
    ),
    PublishedTestKey(
        sts.DKGA.DKGA02,
        "2A08B6",
        "a DKGA02 decode test key of a public implementation",
        ("vectors/tokens.json: nectar-own-TokensServiceTest-decode",),
    ),
    PublishedTestKey(
        sts.DKGA.DKGA04,
        "0F353D",
        "the DKGA04 CTSA01 compliance test key",
        (
            "stsvend.keystore.demo: 123457/1/VUDK and 123457/4/VUDK",
            "vectors/tokens.json: cspos-CTSA01.10 and the other DKGA04 cases",
        ),
    ),
)

_BY_FINGERPRINT = {(entry.dkga, entry.kcv): entry for entry in PUBLISHED_TEST_KEYS}


def published_test_key(dkga: sts.DKGA | str, kcv: str) -> PublishedTestKey | None:
    """The published test key with this DKGA and KCV, or None."""
    return _BY_FINGERPRINT.get((sts.DKGA.parse(dkga), normalise_kcv(kcv)))


def refuse_published_test_keys(records: Iterable[KeyRecord]) -> None:
    """Raise :class:`PublishedTestKeyError` for the first record that is a published test key.

    Called for PRODUCTION keys only: a TEST keystore holds exactly these keys.
    """
    for record in records:
        found = published_test_key(record.dkga, record.kcv)
        if found is not None:
            raise PublishedTestKeyError(
                f"key {record.key_id} (KCV {record.kcv}) is {found.label}, a published STS "
                "test key whose decoder keys anyone can derive: it cannot be imported as a "
                "PRODUCTION key; nothing was imported"
            )
