from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "testproject.demo"
    label = "demo"
    verbose_name = "cors-policies demo"
    default_auto_field = "django.db.models.BigAutoField"
