from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """Installed for its templates (base, 403/404, log-in), static files and template tags."""

    name = "tryg.web"
    label = "web"
    verbose_name = _("Web pages")
