from django.apps import AppConfig


class CorsPoliciesConfig(AppConfig):
    name = "cors_policies"
    verbose_name = "CORS policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers checks and invalidation hooks)
