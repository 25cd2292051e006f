from django.apps import AppConfig


class RecyclersConfig(AppConfig):
    name = "recyclers"
    verbose_name = "Partners"
