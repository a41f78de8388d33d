"""``python -m gigbridge.sandbox run | info [--json]``."""

from .command import main

main()
