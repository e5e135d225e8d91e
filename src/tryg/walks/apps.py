from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalksConfig(AppConfig):
    name = "tryg.walks"
    label = "walks"
    verbose_name = _("Safety walks")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tryg.walks import figures
        from tryg.walks.models import Action, Finding, Participant, Walk

        # The cached figures of the pages go stale when what they count changes.
        for model in (Action, Finding, Participant, Walk):
            post_save.connect(figures.invalidate, sender=model,
                              dispatch_uid=f"walks-figures-{model.__name__}")
            post_delete.connect(figures.invalidate, sender=model,
                                dispatch_uid=f"walks-figures-delete-{model.__name__}")
