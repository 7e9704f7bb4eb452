"""The meter branch of the error tree rooted at :class:`stsvend.errors.StsError`.

A meter answers every *token* with a :class:`~stsvend.meter.results.Result`, never an exception:
a rejected token is a normal outcome.  These errors are for callers that misuse the model —
an impossible profile, a snapshot that does not load, a clock that runs backwards, or a request
the meter refuses outright (emergency credit on a meter without it)::

    StsError
    └── MeterError                 the meter model refuses a request       code "meter"
        ├── MeterConfigError       a profile setting is impossible         code "meter_config"
        ├── MeterStateError        a saved snapshot does not load          code "meter_state"
        ├── MeterClockError        the meter's time runs backwards         code "meter_clock"
        └── EmergencyCreditError   emergency credit cannot be switched on  code "emergency_credit"

>>> issubclass(MeterConfigError, StsError), MeterConfigError().code
(True, 'meter_config')
"""

from __future__ import annotations

from stsvend.errors import StsError

__all__ = [
    "EmergencyCreditError",
    "MeterClockError",
    "MeterConfigError",
    "MeterError",
    "MeterStateError",
]


class MeterError(StsError):
    code = "meter"
    default_message = "the meter refuses this request"


class MeterConfigError(MeterError, ValueError):
    code = "meter_config"
    default_message = "the meter profile is not valid"


class MeterStateError(MeterError, ValueError):
    code = "meter_state"
    default_message = "the saved meter state cannot be loaded"


class MeterClockError(MeterError, ValueError):
    code = "meter_clock"
    default_message = "the meter's clock must be timezone-aware and may not run backwards"


class EmergencyCreditError(MeterError):
    code = "emergency_credit"
    default_message = "emergency credit is not available"
