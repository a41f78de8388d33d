"""``python -m gigbridge.sandbox run | info [--json]``."""

import os

from gigbridge.filemodes import PRIVATE_UMASK

from .command import main

os.umask(PRIVATE_UMASK)  # its CA key, secrets and database are its owner's only
main()
