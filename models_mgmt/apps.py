"""App config for models_mgmt: connects the receivers of annotate's events."""

from django.apps import AppConfig


class ModelsMgmtConfig(AppConfig):
    name = "models_mgmt"
    verbose_name = "Models"

    def ready(self) -> None:
        from models_mgmt import receivers  # noqa: F401
