"""URLs of the pages. Analysts' pages live under /analyse/, the public ones at the root.

Each part of the site has its own URL module, included here.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from tryg.public import views as public_views
from tryg.web import views

urlpatterns = [
    path("", public_views.home, name="home"),
    path("", include("tryg.public.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("analyse/import/", include("tryg.imports.urls")),
    path("analyse/jobs/", include("tryg.jobs.urls")),
    path("analyse/reports/", include("tryg.reports.urls")),
    path("analyse/", include("tryg.web.analyst_urls")),
    path("api/", include("tryg.api.urls")),
    path("", include("tryg.strategy.urls")),
    path("", include("tryg.walks.urls")),
    path("open311/v2/", include("tryg.walks.open311.urls")),
]
