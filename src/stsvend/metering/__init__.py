"""Metering: meter readings and the rules that decide which of them may be used.

Pure, like the rest of the core: values in, values out, no I/O and no clock.
"""

__all__ = ["plausibility"]
