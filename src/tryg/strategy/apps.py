from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class StrategyConfig(AppConfig):
    name = "tryg.strategy"
    label = "strategy"
    verbose_name = _("Strategies and initiatives")

    def ready(self) -> None:
        from tryg.runs.models import IndexRun
        from tryg.strategy.evaluation_cache import warm_on_change, warm_on_publish
        from tryg.strategy.models import Indicator, Initiative

        post_save.connect(warm_on_publish, sender=IndexRun,
                          dispatch_uid="tryg-strategy-evaluations-on-publish")
        for model in (Initiative, Indicator):
            post_save.connect(warm_on_change, sender=model,
                              dispatch_uid=f"tryg-strategy-evaluations-{model.__name__}")
