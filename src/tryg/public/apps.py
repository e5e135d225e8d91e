from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PublicConfig(AppConfig):
    name = "tryg.public"
    label = "public"
    verbose_name = "Public dashboard"

    def ready(self) -> None:
        from tryg.public.data import forget_publication
        from tryg.runs.models import IndexRun

        post_save.connect(forget_publication, sender=IndexRun,
                          dispatch_uid="tryg-public-forget-save")
        post_delete.connect(forget_publication, sender=IndexRun,
                            dispatch_uid="tryg-public-forget-delete")
