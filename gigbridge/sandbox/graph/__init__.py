"""Microsoft Graph v1.0 emulator (part 1), served under ``/v1.0/`` by the sandbox.

Directory (invitations, users with delta, unified groups), Teams (async creation, members,
standard and private channels), ``sendMail``, JSON ``$batch``; throttling per app and injected
faults from the dials (``/_sandbox/control``). One module per resource; ``dispatch`` routes a
request (from HTTP or from ``$batch``) to its handler. See each module for the behaviour it
chose where Graph's documentation leaves room.

Nothing here is imported at package import, so ``dials`` works without Django.
"""
