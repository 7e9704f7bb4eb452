"""Class 1 test and display tokens: what each control bit makes the meter do.

A class 1 token (``docs/sts.md`` §2.3) is not encrypted and carries no TID; it asks the meter
to run tests or show values, one control bit per function, and names a manufacturer code (0 for
every meter).  The normative bit assignment (IEC 62055-41 Table 27) is not public (§12):
the table below is this model's assignment, following the order in which the functions are
usually listed; bit 0 ("test all") is the one every meter must support.  Bits not listed are
accepted and reported as "test n".

>>> [f.name for f in functions_of(0b1001)]
['test all', 'display total energy to load']
>>> functions_of(1 << 30)[0].name
'test 30'
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["TEST_FUNCTIONS", "TestFunction", "functions_of"]


@frozen
class TestFunction:
    """One control bit: the function's name and the meter value it displays (a status key)."""

    __test__ = False  # not a pytest test class

    bit: int
    name: str
    shows: str | None = None


#: This model's control-bit table (see the module docstring for its status).
TEST_FUNCTIONS: tuple[TestFunction, ...] = (
    TestFunction(0, "test all"),
    TestFunction(1, "test load switch", "relay"),
    TestFunction(2, "test display"),
    TestFunction(3, "display total energy to load", "energy_total"),
    TestFunction(4, "display key revision number", "krn"),
    TestFunction(5, "display tariff index", "ti"),
    TestFunction(6, "test token reader"),
    TestFunction(7, "display maximum power limit", "max_power_limit"),
    TestFunction(8, "display tamper status", "tamper"),
    TestFunction(9, "display power consumption", "load"),
    TestFunction(10, "display software version", "software"),
    TestFunction(11, "display phase power unbalance limit", "phase_unbalance_limit"),
    TestFunction(12, "display water meter factor", "water_meter_factor"),
    TestFunction(13, "display tariff rate", "tariff_rate"),
    TestFunction(14, "display key type", "key_type"),
    TestFunction(15, "display key expiry number", "ken"),
)
_BY_BIT = {f.bit: f for f in TEST_FUNCTIONS}


def functions_of(control: int) -> list[TestFunction]:
    """The functions a control field asks for, lowest bit first."""
    out = []
    bit = 0
    while control >> bit:
        if (control >> bit) & 1:
            out.append(_BY_BIT.get(bit) or TestFunction(bit, f"test {bit}"))
        bit += 1
    return out
