from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliceRegisterConfig(AppConfig):
    """The police register's records and counts.

    The label stays ``crime`` (the package's earlier name): tables (``crime_registercount``),
    migrations and the other apps' migration dependencies name the app by its label, so the
    package could be renamed without a data migration.
    """

    name = "tryg.police_register"
    label = "crime"
    verbose_name = _("Police register")
