"""Upload and import pages (analysts), included at /analyse/import/."""

from django.urls import path

from tryg.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<int:batch_id>/", views.batch_detail, name="batch"),
    path("<int:batch_id>/withdraw/", views.withdraw, name="withdraw"),
]
