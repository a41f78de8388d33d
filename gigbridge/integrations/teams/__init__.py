"""Microsoft Teams through the Gigbridge bot (Microsoft 365 Agents SDK 1.9, Bot Connector v3).

The single choke point for Teams: ``client`` sends (personal chats, channel threads, replies,
updates, deletions), ``inbound`` routes what Teams sends (card actions, channel messages) to the
handlers that domain apps register. Integrations never import domain apps.
"""
