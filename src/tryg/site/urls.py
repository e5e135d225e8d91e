"""The root URL list of a tryg site: each app's pages are included from its own URL module.

The public pages sit at the root, the analysts' pages under /analyse/ (uploads under
/analyse/import/), the JSON API under /api/.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tryg.public import language
from tryg.public import views as public_views
from tryg.web import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sprog/<str:code>/", language.switch, name="language"),
    path("", public_views.home, name="home"),
    path("", include("tryg.public.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("analyse/import/", include("tryg.imports.urls")),
    path("analyse/jobs/", include("tryg.jobs.urls")),
    path("analyse/reports/", include("tryg.reports.urls")),
    path("analyse/", include("tryg.analysis.urls")),
    path("api/", include("tryg.api.urls")),
    path("", include("tryg.strategy.urls")),
    path("", include("tryg.walks.urls")),
    path("open311/v2/", include("tryg.walks.open311.urls")),
]
