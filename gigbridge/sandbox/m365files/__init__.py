"""Microsoft Graph v1.0 emulator, part 2: Planner, SharePoint drives and files, subscriptions.

A Django app of its own (label ``sandbox_files``) inside the sandbox process. Its handlers
register with the Graph dispatcher of ``gigbridge.sandbox.graph`` (so ``$batch`` reaches them
too); upload URLs and the ``/_sandbox/`` tools of this part are plain Django views (``urls``).

- ``planner``: plans, buckets, tasks (ETags, ``If-Match``, ``Prefer: return=representation``)
  and task details.
- ``drives``: a group's document library, items by id or by path, folders, small uploads,
  upload sessions (``uploads`` serves their ``uploadUrl``), versions, sharing invitations and
  permissions with expiry. Bytes live under ``$GIGBRIDGE_DATA_DIR/sandbox/files/``.
- ``changes`` and ``delta``: each drive's change log (every change goes through it and fires
  the drive-root notification) and ``root/delta`` reading it.
- ``tools``: the ``/_sandbox/files/`` tools.
- ``subscriptions`` and ``notify``: change notification subscriptions with the validation
  handshake, and delivery of change and lifecycle notifications from background threads.
- ``clock``: the sandbox clock (real time plus an offset the tools can set), which decides
  what has expired.
"""
