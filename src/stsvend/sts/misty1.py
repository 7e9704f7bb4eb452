"""EA11: the MISTY1 block cipher (RFC 2994) as used by IEC 62055-41 STS tokens.

IEC 62055-41 encryption algorithm 11 (EA11) enciphers the 64-bit token data block with
MISTY1 — 128-bit key, 64-bit block, 8 rounds — exactly as RFC 2994 describes it.  This is a
from-the-RFC pure-Python implementation tuned for the vending path, where every token is
enciphered under its own decoder key, so the key schedule is as cheap as a block.

Blocks are unsigned ints: ``int.from_bytes(eight_bytes, "big")``, i.e. the RFC's 64-bit
plaintext and ciphertext read big-endian.  The key is the RFC's bytes K[0]..K[15].

>>> cipher = Misty1(bytes.fromhex("00112233445566778899aabbccddeeff"))
>>> hex(cipher.encrypt_block(0x0123456789ABCDEF))
'0x8b1da5f56ab3d07c'
>>> hex(cipher.decrypt_block(0x8B1DA5F56AB3D07C))
'0x123456789abcdef'

How it is made fast (the RFC's names in brackets):

* FI splits into a key-free head, then the key XOR, then a key-free tail.  The head
  (``S9`` on the high 9 bits, ``S7`` on the low 7, with their cross XORs) and the tail
  (the last ``S9`` and its XOR) are each one 65536-entry table built once at import, so
  ``FI(x, key) == _FI_TAIL[_FI_HEAD[x] ^ key]``; the key-dependent XOR stays outside.
* The key schedule is 8 of those FIs; the 16 subkey words (EK[0..7] and EK'[0..7]) are kept
  as one tuple and unpacked into locals, and all 8 rounds are unrolled with fixed subkeys.
* The block lives as four 16-bit words, so every operation is on small ints.
"""

from __future__ import annotations

import struct

from stsvend.errors import FieldRangeError, KeyMaterialError

__all__ = ["S7", "S9", "Misty1"]

# RFC 2994 section 2.3, "S7 TABLE" and "S9 TABLE", in the RFC's decimal notation.
# fmt: off
S7: tuple[int, ...] = (
     27,  50,  51,  90,  59,  16,  23,  84,  91,  26, 114, 115, 107,  44, 102,  73,
     31,  36,  19, 108,  55,  46,  63,  74,  93,  15,  64,  86,  37,  81,  28,   4,
     11,  70,  32,  13, 123,  53,  68,  66,  43,  30,  65,  20,  75, 121,  21, 111,
     14,  85,   9,  54, 116,  12, 103,  83,  40,  10, 126,  56,   2,   7,  96,  41,
     25,  18, 101,  47,  48,  57,   8, 104,  95, 120,  42,  76, 100,  69, 117,  61,
     89,  72,   3,  87, 124,  79,  98,  60,  29,  33,  94,  39, 106, 112,  77,  58,
      1, 109, 110,  99,  24, 119,  35,   5,  38, 118,   0,  49,  45, 122, 127,  97,
     80,  34,  17,   6,  71,  22,  82,  78, 113,  62, 105,  67,  52,  92,  88, 125,
)

S9: tuple[int, ...] = (
    451, 203, 339, 415, 483, 233, 251,  53, 385, 185, 279, 491, 307,   9,  45, 211,
    199, 330,  55, 126, 235, 356, 403, 472, 163, 286,  85,  44,  29, 418, 355, 280,
    331, 338, 466,  15,  43,  48, 314, 229, 273, 312, 398,  99, 227, 200, 500,  27,
      1, 157, 248, 416, 365, 499,  28, 326, 125, 209, 130, 490, 387, 301, 244, 414,
    467, 221, 482, 296, 480, 236,  89, 145,  17, 303,  38, 220, 176, 396, 271, 503,
    231, 364, 182, 249, 216, 337, 257, 332, 259, 184, 340, 299, 430,  23, 113,  12,
     71,  88, 127, 420, 308, 297, 132, 349, 413, 434, 419,  72, 124,  81, 458,  35,
    317, 423, 357,  59,  66, 218, 402, 206, 193, 107, 159, 497, 300, 388, 250, 406,
    481, 361, 381,  49, 384, 266, 148, 474, 390, 318, 284,  96, 373, 463, 103, 281,
    101, 104, 153, 336,   8,   7, 380, 183,  36,  25, 222, 295, 219, 228, 425,  82,
    265, 144, 412, 449,  40, 435, 309, 362, 374, 223, 485, 392, 197, 366, 478, 433,
    195, 479,  54, 238, 494, 240, 147,  73, 154, 438, 105, 129, 293,  11,  94, 180,
    329, 455, 372,  62, 315, 439, 142, 454, 174,  16, 149, 495,  78, 242, 509, 133,
    253, 246, 160, 367, 131, 138, 342, 155, 316, 263, 359, 152, 464, 489,   3, 510,
    189, 290, 137, 210, 399,  18,  51, 106, 322, 237, 368, 283, 226, 335, 344, 305,
    327,  93, 275, 461, 121, 353, 421, 377, 158, 436, 204,  34, 306,  26, 232,   4,
    391, 493, 407,  57, 447, 471,  39, 395, 198, 156, 208, 334, 108,  52, 498, 110,
    202,  37, 186, 401, 254,  19, 262,  47, 429, 370, 475, 192, 267, 470, 245, 492,
    269, 118, 276, 427, 117, 268, 484, 345,  84, 287,  75, 196, 446, 247,  41, 164,
     14, 496, 119,  77, 378, 134, 139, 179, 369, 191, 270, 260, 151, 347, 352, 360,
    215, 187, 102, 462, 252, 146, 453, 111,  22,  74, 161, 313, 175, 241, 400,  10,
    426, 323, 379,  86, 397, 358, 212, 507, 333, 404, 410, 135, 504, 291, 167, 440,
    321,  60, 505, 320,  42, 341, 282, 417, 408, 213, 294, 431,  97, 302, 343, 476,
    114, 394, 170, 150, 277, 239,  69, 123, 141, 325,  83,  95, 376, 178,  46,  32,
    469,  63, 457, 487, 428,  68,  56,  20, 177, 363, 171, 181,  90, 386, 456, 468,
     24, 375, 100, 207, 109, 256, 409, 304, 346,   5, 288, 443, 445, 224,  79, 214,
    319, 452, 298,  21,   6, 255, 411, 166,  67, 136,  80, 351, 488, 289, 115, 382,
    188, 194, 201, 371, 393, 501, 116, 460, 486, 424, 405,  31,  65,  13, 442,  50,
     61, 465, 128, 168,  87, 441, 354, 328, 217, 261,  98, 122,  33, 511, 274, 264,
    448, 169, 285, 432, 422, 205, 243,  92, 258,  91, 473, 324, 502, 173, 165,  58,
    459, 310, 383,  70, 225,  30, 477, 230, 311, 506, 389, 140, 143,  64, 437, 190,
    120,   0, 172, 272, 350, 292,   2, 444, 162, 234, 112, 508, 278, 348,  76, 450,
)
# fmt: on


def _build_fi_tables() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The key-independent halves of FI as two 65536-entry tables.

    RFC 2994 FI(FI_IN, FI_KEY), with d9 = FI_IN >> 7 and d7 = FI_IN & 0x7F::

        d9 = S9[d9] ^ d7;  d7 = S7[d7] ^ (d9 & 0x7F)          <- head: depends on FI_IN only
        d7 ^= FI_KEY >> 9;  d9 ^= FI_KEY & 0x1FF               <- the key: one 16-bit XOR
        d9 = S9[d9] ^ d7;  FI_OUT = (d7 << 9) | d9             <- tail: depends on the sum only

    Packing (d7, d9) as ``d7 << 9 | d9`` makes the key step ``u ^ FI_KEY``.
    """
    # Index a shared tuple of ints so both tables point at the same 65536 int objects
    # (about 2 MB less than two independent tables; building is no slower).
    ints = tuple(range(0x10000))
    head = tuple(
        [ints[(((S7[lo] ^ s9 ^ lo) & 0x7F) << 9) | (s9 ^ lo)] for s9 in S9 for lo in range(0x80)]
    )
    tail = tuple([ints[(hi << 9) | (s9 ^ hi)] for hi in range(0x80) for s9 in S9])
    return head, tail


_FI_HEAD, _FI_TAIL = _build_fi_tables()
_KEY_WORDS = struct.Struct(">8H").unpack
_BLOCK_MAX = 0xFFFF_FFFF_FFFF_FFFF


class Misty1:
    """MISTY1 with a 128-bit key; blocks are 64-bit unsigned ints.

    A block int is the 8-byte block read big-endian.  The key schedule runs once, here in
    ``__init__``; nothing mutates an instance afterwards, so threads may share one.
    """

    __slots__ = ("_subkeys",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != 16:
            got = len(key) if isinstance(key, bytes | bytearray) else type(key).__name__
            raise KeyMaterialError(f"an EA11 (MISTY1) decoder key is 16 bytes, got {got}")
        # RFC 2994 section 2.2: EK[i] = K[2i]*256 + K[2i+1];  EK'[i] = FI(EK[i], EK[(i+1) % 8]).
        # (The RFC's KI_ij halves EK[16..31] are just EK' split 9/7 bits, which the table
        # layout consumes whole.)
        k0, k1, k2, k3, k4, k5, k6, k7 = _KEY_WORDS(key)
        f = _FI_HEAD
        z = _FI_TAIL
        self._subkeys: tuple[int, ...] = (
            k0, k1, k2, k3, k4, k5, k6, k7,
            z[f[k0] ^ k1], z[f[k1] ^ k2], z[f[k2] ^ k3], z[f[k3] ^ k4],
            z[f[k4] ^ k5], z[f[k5] ^ k6], z[f[k6] ^ k7], z[f[k7] ^ k0],
        )  # fmt: skip

    def __repr__(self) -> str:
        # Never show key material.
        return "Misty1(<key>)"

    def encrypt_block(self, block: int) -> int:
        """Encipher one 64-bit block (RFC 2994 section 2.3, 8 rounds)."""
        if not 0 <= block <= _BLOCK_MAX:
            raise FieldRangeError(f"a MISTY1 block is 0..2**64-1, got {block}")
        k0, k1, k2, k3, k4, k5, k6, k7, j0, j1, j2, j3, j4, j5, j6, j7 = self._subkeys
        f = _FI_HEAD
        z = _FI_TAIL
        # D0 = (a, b) is the high 32 bits, D1 = (c, d) the low 32; each word 16 bits.
        # FO(x, r) with x = (x0, x1) is three FIs; its subkeys are KO = EK[r, r+2, r+7, r+4]
        # and KI = EK'[r+5, r+1, r+3] (mod 8).  FL(h, l, n): l ^= h & KL1; h ^= l | KL2.
        a = block >> 48
        b = (block >> 32) & 0xFFFF
        c = (block >> 16) & 0xFFFF
        d = block & 0xFFFF
        # round 0: FL layer, then D1 ^= FO(D0)
        b ^= a & k0
        a ^= b | j6
        d ^= c & j2
        c ^= d | k4
        s = z[f[a ^ k0] ^ j5] ^ b
        t = z[f[b ^ k2] ^ j1] ^ s
        s = z[f[s ^ k7] ^ j3] ^ t
        c ^= t ^ k4
        d ^= s
        # round 1: D0 ^= FO(D1)
        s = z[f[c ^ k1] ^ j6] ^ d
        t = z[f[d ^ k3] ^ j2] ^ s
        s = z[f[s ^ k0] ^ j4] ^ t
        a ^= t ^ k5
        b ^= s
        # round 2: FL layer, then D1 ^= FO(D0)
        b ^= a & k1
        a ^= b | j7
        d ^= c & j3
        c ^= d | k5
        s = z[f[a ^ k2] ^ j7] ^ b
        t = z[f[b ^ k4] ^ j3] ^ s
        s = z[f[s ^ k1] ^ j5] ^ t
        c ^= t ^ k6
        d ^= s
        # round 3: D0 ^= FO(D1)
        s = z[f[c ^ k3] ^ j0] ^ d
        t = z[f[d ^ k5] ^ j4] ^ s
        s = z[f[s ^ k2] ^ j6] ^ t
        a ^= t ^ k7
        b ^= s
        # round 4: FL layer, then D1 ^= FO(D0)
        b ^= a & k2
        a ^= b | j0
        d ^= c & j4
        c ^= d | k6
        s = z[f[a ^ k4] ^ j1] ^ b
        t = z[f[b ^ k6] ^ j5] ^ s
        s = z[f[s ^ k3] ^ j7] ^ t
        c ^= t ^ k0
        d ^= s
        # round 5: D0 ^= FO(D1)
        s = z[f[c ^ k5] ^ j2] ^ d
        t = z[f[d ^ k7] ^ j6] ^ s
        s = z[f[s ^ k4] ^ j0] ^ t
        a ^= t ^ k1
        b ^= s
        # round 6: FL layer, then D1 ^= FO(D0)
        b ^= a & k3
        a ^= b | j1
        d ^= c & j5
        c ^= d | k7
        s = z[f[a ^ k6] ^ j3] ^ b
        t = z[f[b ^ k0] ^ j7] ^ s
        s = z[f[s ^ k5] ^ j1] ^ t
        c ^= t ^ k2
        d ^= s
        # round 7: D0 ^= FO(D1)
        s = z[f[c ^ k7] ^ j4] ^ d
        t = z[f[d ^ k1] ^ j0] ^ s
        s = z[f[s ^ k6] ^ j2] ^ t
        a ^= t ^ k3
        b ^= s
        # final FL layer
        b ^= a & k4
        a ^= b | j2
        d ^= c & j6
        c ^= d | k0
        # The ciphertext is D1 || D0.
        return (c << 48) | (d << 32) | (a << 16) | b

    def decrypt_block(self, block: int) -> int:
        """Decipher one 64-bit block: the rounds in reverse order with FL inverted."""
        if not 0 <= block <= _BLOCK_MAX:
            raise FieldRangeError(f"a MISTY1 block is 0..2**64-1, got {block}")
        k0, k1, k2, k3, k4, k5, k6, k7, j0, j1, j2, j3, j4, j5, j6, j7 = self._subkeys
        f = _FI_HEAD
        z = _FI_TAIL
        # The ciphertext is D1 || D0: D1 = (c, d), D0 = (a, b).
        c = block >> 48
        d = (block >> 32) & 0xFFFF
        a = (block >> 16) & 0xFFFF
        b = block & 0xFFFF
        # undo the final FL layer
        a ^= b | j2
        b ^= a & k4
        c ^= d | k0
        d ^= c & j6
        # undo round 7: D0 ^= FO(D1)
        s = z[f[c ^ k7] ^ j4] ^ d
        t = z[f[d ^ k1] ^ j0] ^ s
        s = z[f[s ^ k6] ^ j2] ^ t
        a ^= t ^ k3
        b ^= s
        # undo round 6: D1 ^= FO(D0), then the inverse FL layer
        s = z[f[a ^ k6] ^ j3] ^ b
        t = z[f[b ^ k0] ^ j7] ^ s
        s = z[f[s ^ k5] ^ j1] ^ t
        c ^= t ^ k2
        d ^= s
        a ^= b | j1
        b ^= a & k3
        c ^= d | k7
        d ^= c & j5
        # undo round 5: D0 ^= FO(D1)
        s = z[f[c ^ k5] ^ j2] ^ d
        t = z[f[d ^ k7] ^ j6] ^ s
        s = z[f[s ^ k4] ^ j0] ^ t
        a ^= t ^ k1
        b ^= s
        # undo round 4: D1 ^= FO(D0), then the inverse FL layer
        s = z[f[a ^ k4] ^ j1] ^ b
        t = z[f[b ^ k6] ^ j5] ^ s
        s = z[f[s ^ k3] ^ j7] ^ t
        c ^= t ^ k0
        d ^= s
        a ^= b | j0
        b ^= a & k2
        c ^= d | k6
        d ^= c & j4
        # undo round 3: D0 ^= FO(D1)
        s = z[f[c ^ k3] ^ j0] ^ d
        t = z[f[d ^ k5] ^ j4] ^ s
        s = z[f[s ^ k2] ^ j6] ^ t
        a ^= t ^ k7
        b ^= s
        # undo round 2: D1 ^= FO(D0), then the inverse FL layer
        s = z[f[a ^ k2] ^ j7] ^ b
        t = z[f[b ^ k4] ^ j3] ^ s
        s = z[f[s ^ k1] ^ j5] ^ t
        c ^= t ^ k6
        d ^= s
        a ^= b | j7
        b ^= a & k1
        c ^= d | k5
        d ^= c & j3
        # undo round 1: D0 ^= FO(D1)
        s = z[f[c ^ k1] ^ j6] ^ d
        t = z[f[d ^ k3] ^ j2] ^ s
        s = z[f[s ^ k0] ^ j4] ^ t
        a ^= t ^ k5
        b ^= s
        # undo round 0: D1 ^= FO(D0), then the inverse FL layer
        s = z[f[a ^ k0] ^ j5] ^ b
        t = z[f[b ^ k2] ^ j1] ^ s
        s = z[f[s ^ k7] ^ j3] ^ t
        c ^= t ^ k4
        d ^= s
        a ^= b | j6
        b ^= a & k0
        c ^= d | k4
        d ^= c & j2
        return (a << 48) | (b << 32) | (c << 16) | d
