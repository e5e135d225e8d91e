from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "tryg.public"
    label = "public"
    verbose_name = "Public dashboard"
