from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "tryg.analysis"
    label = "analysis"
    verbose_name = _("Analysts' pages")

    def ready(self) -> None:
        from tryg.analysis import results_file  # noqa: F401  (registers "results_xlsx")
