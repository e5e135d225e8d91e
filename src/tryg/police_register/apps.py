from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrimeConfig(AppConfig):
    name = "tryg.crime"
    label = "crime"
    verbose_name = _("Police register")
