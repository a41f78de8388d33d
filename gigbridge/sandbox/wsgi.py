import os

from django.core.wsgi import get_wsgi_application

# Assigned, not defaulted: the environment may carry the product's settings module (the CLI sets
# it), and the sandbox must never serve with those.
os.environ["DJANGO_SETTINGS_MODULE"] = "gigbridge.sandbox.settings"
application = get_wsgi_application()
