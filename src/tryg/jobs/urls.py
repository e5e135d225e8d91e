"""Background jobs' pages (included at /analyse/jobs/)."""

from django.urls import path

from tryg.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.jobs, name="jobs"),
    path("<int:job_id>/", views.job, name="job"),
    path("<int:job_id>/retry/", views.retry, name="retry"),
]
