from importlib import import_module

from django.apps import AppConfig


class CorsPoliciesConfig(AppConfig):
    name = "cors_policies"
    verbose_name = "CORS policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks and the settings receiver. Loaded here, when the models are: this module is
        # imported before them, so it cannot import modules that use models at its top (no cycle is hidden).
        for module in ("checks", "signals"):
            import_module(f"{self.name}.{module}")
