"""The STS meter keypad simulator app."""
