from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "tryg.jobs"
    label = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        # the kinds shipped with tryg, and the deployment checks (tag "deploy")
        from tryg.jobs import checks, kinds  # noqa: F401
        from tryg.public.warm import warm_elsewhere

        # with a shared cache, a publication's pages are warmed by a job any worker runs
        warm_elsewhere.connect(kinds.queue_warm_pages, dispatch_uid="tryg-jobs-warm-pages")
