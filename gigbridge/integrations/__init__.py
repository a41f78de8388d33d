"""Integrations: one package per outside service, each the single choke point for it."""
