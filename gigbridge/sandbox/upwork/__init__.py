"""Upwork marketplace emulator: OAuth2, GraphQL and simulated freelancers, under ``/upwork``.

See ``views`` for the endpoints, ``api`` for the GraphQL operations and the input fields they
accept, ``simulate`` for what the freelancers do, and ``control`` for the tools endpoints.
"""
