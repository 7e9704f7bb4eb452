"""Tests of the sans-IO meter model (stsvend.meter)."""
