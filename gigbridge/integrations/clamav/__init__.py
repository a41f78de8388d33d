"""ClamAV's clamd: our protocol client (INSTREAM, PING, VERSION) and the embedded daemon.

    from gigbridge.integrations.clamav.client import from_settings
    scanner = from_settings()            # None when no clamd is configured
    scanner.scan_stream(chunks)          # ScanResult("clean" | "infected" | "too_large", ...)
"""
