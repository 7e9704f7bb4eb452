"""EA07: the STS Standard Transfer Algorithm (STA), a 64-bit block cipher with a 64-bit key.

IEC 62055-41 clause 6.5.2 (``docs/sts.md`` §6.1).  Encryption: the key is complemented and
rotated right by 12; then 16 rounds of (nibble substitution — S1 where the nibble's key bit
4n+3 is 0, S2 where it is 1 — then the bit permutation P, then the key rotated left by 1).

The straightforward definition costs 16 × (16 + 64) bit operations per block; here each round is
eight byte-indexed table look-ups instead.  For every byte position and every pair of key
selector bits a 256-entry table holds the *permuted* result of substituting that byte, so a
round is the OR of eight look-ups.  The sixteen rounds' selector bits are gathered from the key
once (a 4 × 16 bit transpose, then rotations).  :func:`reference_encrypt` keeps the textbook
form; the tests hold the two equal.  The compiled tables are kept on the :class:`StaTables`
value they come from, so they travel with it (no module-level cache, no process default).

>>> hex(Sta(0x0ABC12DEF3456789).encrypt_block(0x0B19EB230100C207))
'0x9335c6c96b7352dc'
>>> Sta(0x0ABC12DEF3456789).decrypt_block(0x9335C6C96B7352DC) == 0x0B19EB230100C207
True
"""

from __future__ import annotations

from collections.abc import Sequence

from stsvend.errors import FieldRangeError, KeyMaterialError
from stsvend.sts.sta_tables import PRODUCTION, StaTables

__all__ = [
    "Sta",
    "key_schedule_start",
    "reference_decrypt",
    "reference_encrypt",
    "sta_decrypt",
    "sta_encrypt",
]

_M64 = (1 << 64) - 1
_Table = list[int]


def key_schedule_start(key: int) -> int:
    """The first round key: NOT key, rotated right by 12 (clause 6.5.2.2)."""
    k = ~key & _M64
    return ((k >> 12) | (k << 52)) & _M64


def _permute(value: int, p: Sequence[int]) -> int:
    out = 0
    for i in range(64):
        if (value >> i) & 1:
            out |= 1 << p[i]
    return out


class _Compiled:
    """Look-up tables compiled from one :class:`StaTables` set."""

    __slots__ = (
        "dec_first",
        "dec_hi",
        "dec_last_hi",
        "dec_last_lo",
        "dec_lo",
        "enc_hi",
        "enc_lo",
        "gather",
        "tables",
    )

    def __init__(self, tables: StaTables) -> None:
        s1, s2, p = tables.s1, tables.s2, tables.p
        p_inv = [0] * 64
        for i, o in enumerate(p):
            p_inv[o] = i
        s1_inv = [s1.index(v) for v in range(16)]
        s2_inv = [s2.index(v) for v in range(16)]

        def sub(byte: int, sel: int, lo: Sequence[int], hi: Sequence[int]) -> int:
            # sel bit 0 picks the table of the low nibble, bit 1 that of the high nibble.
            a = (hi if sel & 1 else lo)[byte & 15]
            b = (hi if sel & 2 else lo)[byte >> 4]
            return a | (b << 4)

        # enc[i][sel][byte] = P(S_sel(byte) << 8i)
        enc = [[[_permute(sub(b, s, s1, s2) << (8 * i), p) for b in range(256)]
                for s in range(4)] for i in range(8)]
        # dec[i][sel][byte] = P^-1(S^-1_sel(byte) << 8i): one round's inverse substitution
        # followed by the previous round's inverse permutation.
        dec = [[[_permute(sub(b, s, s1_inv, s2_inv) << (8 * i), p_inv) for b in range(256)]
                for s in range(4)] for i in range(8)]
        last = [[[sub(b, s, s1_inv, s2_inv) << (8 * i) for b in range(256)]
                 for s in range(4)] for i in range(8)]
        first = [[_permute(b << (8 * i), p_inv) for b in range(256)] for i in range(8)]

        def by_selector(t: list[list[_Table]], base: int) -> list[tuple[_Table, ...]]:
            # Index: 8 selector bits (2 per byte) for the four bytes base..base+3.
            return [tuple(t[base + i][(m >> (2 * i)) & 3] for i in range(4)) for m in range(256)]

        self.tables = tables
        self.enc_lo = by_selector(enc, 0)
        self.enc_hi = by_selector(enc, 4)
        self.dec_lo = by_selector(dec, 0)
        self.dec_hi = by_selector(dec, 4)
        self.dec_last_lo = by_selector(last, 0)
        self.dec_last_hi = by_selector(last, 4)
        self.dec_first = tuple(first)
        # gather[byte]: for j = 0..3, bit (3 - j) of the byte's two nibbles, placed at
        # 16·j + nibble.  OR-ing the eight bytes (shifted by 2·i) transposes the key into
        # four 16-bit masks: mask j holds the selector bits of rounds j, j+4, j+8, j+12
        # (each later one is the mask rotated left by one nibble position).
        self.gather = tuple(
            sum(((b >> (4 * n + 3 - j)) & 1) << (16 * j + n) for j in range(4) for n in range(2))
            for b in range(256)
        )


def _compiled(tables: StaTables) -> _Compiled:
    c = tables.compiled
    if c is None:
        c = _Compiled(tables)
        object.__setattr__(tables, "compiled", c)
    return c  # type: ignore[no-any-return]


_compiled(PRODUCTION)  # built at import, as the published set serves nearly every key


def _round_selectors(key: int, gather: Sequence[int]) -> bytes:
    """32 bytes: for round r, bytes 2r and 2r+1 select the tables of block bytes 0-3 and 4-7."""
    k = key_schedule_start(key)
    kb = k.to_bytes(8, "little")
    g = (gather[kb[0]] | gather[kb[1]] << 2 | gather[kb[2]] << 4 | gather[kb[3]] << 6
         | gather[kb[4]] << 8 | gather[kb[5]] << 10 | gather[kb[6]] << 12 | gather[kb[7]] << 14)
    out = g.to_bytes(8, "little")
    for _ in range(3):
        # rotate each 16-bit lane left by one (the next four rounds)
        g = ((g << 1) & 0xFFFEFFFEFFFEFFFE) | ((g >> 15) & 0x0001000100010001)
        out += g.to_bytes(8, "little")
    return out


def _check_key(key: int) -> None:
    if type(key) is not int or not 0 <= key <= _M64:
        raise KeyMaterialError("an EA07 decoder key is a 64-bit value (8 bytes)")


def _check_block(block: int) -> None:
    if type(block) is not int or not 0 <= block <= _M64:
        raise FieldRangeError(f"a data block is 64 bits, got {block!r}")


def sta_encrypt(key: int, block: int, tables: StaTables = PRODUCTION) -> int:
    """Encrypt one 64-bit block under a 64-bit decoder key."""
    c = _compiled(tables)
    sel = _round_selectors(key, c.gather)
    lo, hi = c.enc_lo, c.enc_hi
    b = block
    for r in range(0, 32, 2):
        a0, a1, a2, a3 = lo[sel[r]]
        a4, a5, a6, a7 = hi[sel[r + 1]]
        x = b.to_bytes(8, "little")
        b = (a0[x[0]] | a1[x[1]] | a2[x[2]] | a3[x[3]]
             | a4[x[4]] | a5[x[5]] | a6[x[6]] | a7[x[7]])
    return b


def sta_decrypt(key: int, block: int, tables: StaTables = PRODUCTION) -> int:
    """Decrypt one 64-bit block under a 64-bit decoder key."""
    c = _compiled(tables)
    sel = _round_selectors(key, c.gather)
    x = block.to_bytes(8, "little")
    f0, f1, f2, f3, f4, f5, f6, f7 = c.dec_first
    b = f0[x[0]] | f1[x[1]] | f2[x[2]] | f3[x[3]] | f4[x[4]] | f5[x[5]] | f6[x[6]] | f7[x[7]]
    lo, hi = c.dec_lo, c.dec_hi
    for r in range(30, 0, -2):
        a0, a1, a2, a3 = lo[sel[r]]
        a4, a5, a6, a7 = hi[sel[r + 1]]
        x = b.to_bytes(8, "little")
        b = (a0[x[0]] | a1[x[1]] | a2[x[2]] | a3[x[3]]
             | a4[x[4]] | a5[x[5]] | a6[x[6]] | a7[x[7]])
    a0, a1, a2, a3 = c.dec_last_lo[sel[0]]
    a4, a5, a6, a7 = c.dec_last_hi[sel[1]]
    x = b.to_bytes(8, "little")
    return (a0[x[0]] | a1[x[1]] | a2[x[2]] | a3[x[3]]
            | a4[x[4]] | a5[x[5]] | a6[x[6]] | a7[x[7]])


class Sta:
    """An EA07 cipher bound to one decoder key (given as bytes or a 64-bit int)."""

    __slots__ = ("key", "tables")

    def __init__(self, key: int | bytes, tables: StaTables = PRODUCTION) -> None:
        if isinstance(key, bytes | bytearray):
            if len(key) != 8:
                raise KeyMaterialError(f"an EA07 decoder key is 8 bytes, got {len(key)}")
            key = int.from_bytes(key, "big")
        _check_key(key)
        self.key = key
        self.tables = tables

    def encrypt_block(self, block: int) -> int:
        _check_block(block)
        return sta_encrypt(self.key, block, self.tables)

    def decrypt_block(self, block: int) -> int:
        _check_block(block)
        return sta_decrypt(self.key, block, self.tables)


def reference_encrypt(key: int, block: int, tables: StaTables = PRODUCTION) -> int:
    """The textbook STA encryption, bit by bit (slow; for tests and for reading)."""
    k = key_schedule_start(key)
    for _ in range(16):
        substituted = 0
        for n in range(16):
            nibble = (block >> (4 * n)) & 15
            box = tables.s2 if (k >> (4 * n + 3)) & 1 else tables.s1
            substituted |= box[nibble] << (4 * n)
        block = _permute(substituted, tables.p)
        k = ((k << 1) | (k >> 63)) & _M64
    return block


def reference_decrypt(key: int, block: int, tables: StaTables = PRODUCTION) -> int:
    """The textbook STA decryption: the rounds undone in reverse order."""
    p_inv = [0] * 64
    for i, o in enumerate(tables.p):
        p_inv[o] = i
    s1_inv = [tables.s1.index(v) for v in range(16)]
    s2_inv = [tables.s2.index(v) for v in range(16)]
    k0 = key_schedule_start(key)
    for r in range(15, -1, -1):
        k = ((k0 << r) | (k0 >> (64 - r))) & _M64 if r else k0
        block = _permute(block, p_inv)
        out = 0
        for n in range(16):
            nibble = (block >> (4 * n)) & 15
            box = s2_inv if (k >> (4 * n + 3)) & 1 else s1_inv
            out |= box[nibble] << (4 * n)
        block = out
    return block
