"""Tests of the keypad simulator app (stsvend_keypad)."""
