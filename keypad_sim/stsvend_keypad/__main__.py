"""``python -m stsvend_keypad``."""

from stsvend_keypad.app import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
