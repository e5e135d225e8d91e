from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "tryg.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from tryg.reports import (
            background,  # noqa: F401  (registers the job kind "report")
            sections,
            strategy_section,
            walks_section,
        )
        from tryg.reports.index_sections import register_index_sections

        register_index_sections()
        # Left out while no strategy is visible and no walk is held (see their modules).
        sections.register(strategy_section.SECTION)
        sections.register(walks_section.SECTION)
        sections.register_from_settings()
