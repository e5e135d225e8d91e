"""The report page and the files of reports made in the background (at /analyse/reports/)."""

from django.urls import path

from tryg.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report, name="report"),
    path("file/<int:job_id>/", views.report_file, name="file"),
]
