"""The report page (included at /analyse/reports/)."""

from django.urls import path

from tryg.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report, name="report"),
]
