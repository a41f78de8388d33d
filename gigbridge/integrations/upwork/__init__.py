"""Upwork: OAuth2 and GraphQL, the single choke point for the marketplace."""
