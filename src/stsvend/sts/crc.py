"""The token CRC: CRC-16/MODBUS over class and payload (IEC 62055-41 clause 6.3.7).

Polynomial x^16 + x^15 + x^2 + 1 processed reflected (0xA001), initial value 0xFFFF, no final
XOR.  Input: the 2-bit class and the 48 payload bits (block bits 63..16) as seven big-endian
bytes.  The register is stored byte-swapped in block bits 15..0 (``docs/sts.md`` §5).
Currency tokens (class 0, subclasses 4–7) use CRC_C: the byte 0x01 is appended first
(clause 6.3.22).

>>> hex(token_crc(0, 0x0B19EB230100))
'0xc207'
"""

from __future__ import annotations

__all__ = ["crc16_modbus", "token_crc", "token_crc_c"]


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        reg = byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
        table.append(reg)
    return tuple(table)


_TABLE = _make_table()


def crc16_modbus(data: bytes, reg: int = 0xFFFF) -> int:
    """Plain CRC-16/MODBUS register over ``data`` (not byte-swapped).

    >>> hex(crc16_modbus(b"123456789"))
    '0x4b37'
    """
    table = _TABLE
    for byte in data:
        reg = (reg >> 8) ^ table[(reg ^ byte) & 0xFF]
    return reg


def token_crc(token_class: int, payload: int) -> int:
    """CRC field (as stored in block bits 15..0) for a class and 48-bit payload."""
    # The 56-bit input is class(2) || payload(48), left-padded; unrolled for speed.
    t = _TABLE
    r = 0xFFFF
    r = (r >> 8) ^ t[(r ^ token_class) & 0xFF]
    r = (r >> 8) ^ t[(r ^ (payload >> 40)) & 0xFF]
    r = (r >> 8) ^ t[(r ^ (payload >> 32)) & 0xFF]
    r = (r >> 8) ^ t[(r ^ (payload >> 24)) & 0xFF]
    r = (r >> 8) ^ t[(r ^ (payload >> 16)) & 0xFF]
    r = (r >> 8) ^ t[(r ^ (payload >> 8)) & 0xFF]
    r = (r >> 8) ^ t[(r ^ payload) & 0xFF]
    return ((r & 0xFF) << 8) | (r >> 8)


def token_crc_c(token_class: int, payload: int) -> int:
    """CRC_C field for currency tokens: the same run with the byte 0x01 appended."""
    t = _TABLE
    r = 0xFFFF
    r = (r >> 8) ^ t[(r ^ token_class) & 0xFF]
    for shift in (40, 32, 24, 16, 8, 0):
        r = (r >> 8) ^ t[(r ^ (payload >> shift)) & 0xFF]
    r = (r >> 8) ^ t[(r ^ 0x01) & 0xFF]
    return ((r & 0xFF) << 8) | (r >> 8)
