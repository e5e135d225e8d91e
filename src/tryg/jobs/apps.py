from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "tryg.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        # the kinds shipped with tryg, and the deployment checks (tag "deploy")
        from tryg.jobs import checks, kinds  # noqa: F401
