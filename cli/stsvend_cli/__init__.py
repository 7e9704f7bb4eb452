"""The stsvend command-line app (click + rich), a thin shell over the library."""
