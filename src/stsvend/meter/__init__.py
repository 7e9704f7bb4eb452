"""``stsvend.meter``: a sans-IO model of an STS meter's decoder, registers and relay.

The meter takes 20-digit entries and answers as an STS decoder does (``docs/sts.md`` §10):
it decrypts with its own decoder key, checks CRC, key type, key expiry and its TID memory,
credits its registers, stages key change sets, stores settings, runs test tokens, locks the
keypad after wrong entries, and draws credit down under a load with a relay that follows a state
table.  The clock is always a parameter.

>>> from datetime import datetime, timedelta, timezone
>>> from stsvend import sts
>>> from stsvend.meter import Meter, MeterProfile, ResultCode
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> identity = sts.MeterIdentity.parse(None, "00000000000")
>>> profile = MeterProfile.derive(identity, sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2),
...                               bytes.fromhex("abababababababab"))
>>> meter = Meter.manufacture(profile, t0)
>>> later = t0 + timedelta(minutes=5)
>>> tid = sts.tid_at(later, sts.BaseDate.Y1993)
>>> token = sts.credit_token(profile.decoder_key, sts.Resource.ELECTRICITY, 100, tid=tid, rnd=5)
>>> meter.enter(token, later).code is ResultCode.ACCEPT
True
>>> meter.status()["credit"]["display"], meter.status()["relay"]
('10.0 kWh', 'closed')
"""

from stsvend.meter.decoder import SOFTWARE_VERSION, Meter, process_entry
from stsvend.meter.emergency import EmergencyPolicy
from stsvend.meter.errors import (
    EmergencyCreditError,
    MeterClockError,
    MeterConfigError,
    MeterError,
    MeterStateError,
)
from stsvend.meter.lockout import Lockout, LockoutPolicy
from stsvend.meter.profile import (
    DEFAULT_CREDIT_REFUSED_KEY_TYPES,
    DEFAULT_REFUSED_KEY_TYPE_CHANGES,
    MeterProfile,
)
from stsvend.meter.registers import CLEAR_ALL, RegisterKind, Registers
from stsvend.meter.relay import RELAY_TABLE, RelayDecision, RelayState, relay_decision
from stsvend.meter.results import ACCEPTED_CODES, Result, ResultCode
from stsvend.meter.state import MeterState, describe, new_state, restore_state, snapshot_state
from stsvend.meter.supply import SupplyReport
from stsvend.meter.testdisplay import TEST_FUNCTIONS, TestFunction
from stsvend.meter.tidmemory import TidMemory

__all__ = [
    "ACCEPTED_CODES",
    "CLEAR_ALL",
    "DEFAULT_CREDIT_REFUSED_KEY_TYPES",
    "DEFAULT_REFUSED_KEY_TYPE_CHANGES",
    "RELAY_TABLE",
    "SOFTWARE_VERSION",
    "TEST_FUNCTIONS",
    "EmergencyCreditError",
    "EmergencyPolicy",
    "Lockout",
    "LockoutPolicy",
    "Meter",
    "MeterClockError",
    "MeterConfigError",
    "MeterError",
    "MeterProfile",
    "MeterState",
    "MeterStateError",
    "RegisterKind",
    "Registers",
    "RelayDecision",
    "RelayState",
    "Result",
    "ResultCode",
    "SupplyReport",
    "TestFunction",
    "TidMemory",
    "describe",
    "new_state",
    "process_entry",
    "relay_decision",
    "restore_state",
    "snapshot_state",
]
