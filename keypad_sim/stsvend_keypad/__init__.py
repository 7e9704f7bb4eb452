"""stsvend-keypad: an STS meter keypad simulator for testers, over :mod:`stsvend.meter`.

Four ways to drive one simulated meter, all sharing the meter's saved state:

* ``stsvend-keypad run PROFILE`` — an interactive terminal meter (display panel, keypad);
* ``stsvend-keypad script PROFILE [FILE]`` — tokens and commands in, one JSON line per step out;
* ``stsvend-keypad serial PROFILE --port URL`` — the line protocol over pyserial (a real port,
  a pty, or ``socket://host:port``);
* ``stsvend-keypad new-profile PATH`` — write a commented example profile.

The meter profile is a TOML file (:mod:`stsvend_keypad.profiles`); the meter's state lives next
to it in ``<profile>.state.json`` and is kept between runs.
"""

__all__: list[str] = []
