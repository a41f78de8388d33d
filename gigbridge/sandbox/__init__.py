"""The sandbox tenant: stateful emulators of Microsoft 365 and the marketplace on loopback HTTPS.

It runs as its own process with its own settings and database (``gigbridge.sandbox.settings``),
so nothing in it can leak into the product's data, and the product talks to it only over HTTPS,
exactly as it talks to the real services.
"""
