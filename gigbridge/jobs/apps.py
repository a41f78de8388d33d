from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig, apps


class JobsConfig(AppConfig):
    name = "gigbridge.jobs"
    label = "jobs"

    def ready(self):
        # Outbox handlers live in each app's tasks module; load them all so any process (web,
        # worker, scheduler) knows every job kind.
        for config in apps.get_app_configs():
            if config.name.startswith("gigbridge.") and find_spec(f"{config.name}.tasks"):
                import_module(f"{config.name}.tasks")
