import os

from django.core.wsgi import get_wsgi_application

from gigbridge.filemodes import PRIVATE_UMASK

# Also when a server imports this directly (gunicorn gigbridge.wsgi): files stay private.
os.umask(PRIVATE_UMASK)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigbridge.settings")
application = get_wsgi_application()
