from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PublicConfig(AppConfig):
    name = "tryg.public"
    label = "public"
    verbose_name = "Public dashboard"

    def ready(self) -> None:
        from tryg.public.data import forget_publication
        from tryg.public.generation import bump
        from tryg.public.warm import warm_on_publish
        from tryg.runs.models import IndexRun

        post_save.connect(forget_publication, sender=IndexRun,
                          dispatch_uid="tryg-public-forget-save")
        post_delete.connect(forget_publication, sender=IndexRun,
                            dispatch_uid="tryg-public-forget-delete")
        # every server sees the change at once through the shared cache, if there is one
        post_save.connect(bump, sender=IndexRun, dispatch_uid="tryg-public-bump-save")
        post_delete.connect(bump, sender=IndexRun, dispatch_uid="tryg-public-bump-delete")
        # after forget_publication (connected first), so the warming sees the new publication
        post_save.connect(warm_on_publish, sender=IndexRun,
                          dispatch_uid="tryg-public-warm-on-publish")
