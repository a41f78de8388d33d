"""What every outbound HTTP call of every integration shares, so no client carries its own copy.

- ``classify``: which answers and transport failures are throttled, transient, auth, not found
  or a client error, and the redaction that keeps credentials out of messages and logs;
- ``retry``: ``Retry-After`` (seconds or an HTTP date, capped), bounded exponential backoff with
  jitter, and the retry loop with its attempt and total-wait limits (clock, sleep and RNG
  injectable);
- ``http``: the ``httpx.Client`` every integration builds the same way (TLS always verified),
  and one attempt of a call: rate-limiter token, one sanitised log line, transport failures
  classified;
- ``ratelimit`` and ``models.RateBucket``: token buckets, in process or in a database row that
  every web and worker process shares.

Each client (``msgraph``, ``upwork``) keeps its own exception classes and maps the shared
classification onto them. This app imports nothing from the domain apps.
"""
