"""Program analytics: per-request facts and the rollups every dashboard query reads (see
docs/analytics.md for the design and the measurement behind it)."""
