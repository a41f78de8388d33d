"""The bot's registration and the Bot Connector's fixed names (plain data, no Django)."""

BOT_APP = "Gigbridge bot"
BOT_SECRET_FILE = "gigbridge-bot.secret"  # noqa: S105 (a file name)
# Resource-specific consent the Teams app package asks for (granted when installed).
BOT_PERMISSIONS = ["ChannelMessage.Read.Group"]
BOT_NAME = "Gigbridge"

BOTFRAMEWORK = "https://api.botframework.com"  # the audience of the bot's tokens; the issuer
TOKEN_SCOPE = f"{BOTFRAMEWORK}/.default"  # of the Connector's tokens to the bot
DEFAULT_ENDPOINT = "http://127.0.0.1:8000/hooks/teams"
SIGNING_KEY_FILE = "botframework-signing.pem"
DELIVERY_TOKEN_LIFETIME = 300  # seconds
CHANNEL_ID = "msteams"
