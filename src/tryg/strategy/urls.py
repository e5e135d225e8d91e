"""The strategy pages, included at the site root (namespace ``strategy``)."""

from django.urls import path

from tryg.strategy import views

app_name = "strategy"

urlpatterns = [
    path("strategies/", views.strategy_list, name="list"),
    path("strategies/new/", views.strategy_new, name="new"),
    path("strategies/<int:strategy_id>/", views.strategy_overview, name="overview"),
    path("strategies/<int:strategy_id>/edit/", views.strategy_edit, name="edit"),
    path("strategies/<int:strategy_id>/history/", views.strategy_history, name="history"),
    path("strategies/<int:strategy_id>/template.yaml", views.strategy_export, name="export"),
    path("strategies/<int:strategy_id>/focus-areas/new/", views.focus_area_new,
         name="focus_area_new"),
    path("focus-areas/<int:focus_area_id>/edit/", views.focus_area_edit, name="focus_area_edit"),
    path("focus-areas/<int:focus_area_id>/initiatives/new/", views.initiative_new,
         name="initiative_new"),
    path("initiatives/<int:initiative_id>/", views.initiative_page, name="initiative"),
    path("initiatives/<int:initiative_id>/edit/", views.initiative_edit, name="initiative_edit"),
    path("initiatives/<int:initiative_id>/indicators/new/", views.indicator_new,
         name="indicator_new"),
    path("indicators/<int:indicator_id>/edit/", views.indicator_edit, name="indicator_edit"),
    path("indicators/<int:indicator_id>/baseline/", views.baseline_edit, name="baseline"),
    path("indicators/<int:indicator_id>/targets/new/", views.target_new, name="target_new"),
    path("indicators/<int:indicator_id>/measurements/new/", views.measurement_new,
         name="measurement_new"),
    path("indicators/<int:indicator_id>/notes/new/", views.note_new, name="note_new"),
    path("measurements/import/", views.measurement_import, name="measurement_import"),
    path("measurements/<int:measurement_id>/edit/", views.measurement_edit,
         name="measurement_edit"),
    path("measurements/<int:measurement_id>/delete/", views.measurement_delete,
         name="measurement_delete"),
]
