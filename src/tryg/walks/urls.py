"""URLs of the safety walks: staff pages under /tryghedsvandringer/, the citizens' form at
/meld-utrygt-sted/. The service worker is served at /tryghedsvandringer/sw.js so its scope
covers the recording pages (staff and personal links)."""

from django.urls import path

from tryg.walks import views

app_name = "walks"

urlpatterns = [
    path("tryghedsvandringer/", views.walk_list, name="list"),
    path("tryghedsvandringer/ny/", views.walk_new, name="new"),
    path("tryghedsvandringer/sw.js", views.service_worker, name="service_worker"),
    path("tryghedsvandringer/omraade/<str:code>.json", views.area_map, name="area_map"),
    path("tryghedsvandringer/<int:walk_id>/", views.walk_detail, name="detail"),
    path("tryghedsvandringer/<int:walk_id>/inviter/", views.walk_invite, name="invite"),
    path("tryghedsvandringer/<int:walk_id>/registrer/", views.record, name="record"),
    path("tryghedsvandringer/<int:walk_id>/kort.json", views.walk_map, name="map"),
    path("tryghedsvandringer/<int:walk_id>/afslutning/", views.walk_meeting, name="meeting"),
    path("tryghedsvandringer/<int:walk_id>/udskriv/", views.walk_print, name="print"),
    path("tryghedsvandringer/<int:walk_id>/genvandring/", views.walk_rewalk, name="rewalk"),
    path("tryghedsvandringer/<int:walk_id>/genbesoeg/<int:revisit_id>/", views.walk_revisit,
         name="revisit"),
    path("tryghedsvandringer/<int:walk_id>/opsummering/", views.walk_summary,
         name="summary"),
    path("tryghedsvandringer/p/<str:token>/", views.personal, name="personal"),
    path("tryghedsvandringer/p/<str:token>/kort.json", views.personal_map,
         name="personal_map"),
    path("tryghedsvandringer/handlinger/", views.action_list, name="actions"),
    path("tryghedsvandringer/handlinger/<int:action_id>/", views.action_detail,
         name="action"),
    path("tryghedsvandringer/foto/<int:photo_id>/", views.photo, name="photo"),
    path("tryghedsvandringer/moderation/", views.moderation, name="moderation"),
    path("tryghedsvandringer/moderation/<int:finding_id>/", views.moderate, name="moderate"),
    path("tryghedsvandringer/tal/", views.figures_page, name="figures"),
    path("meld-utrygt-sted/", views.report, name="report"),
    path("meld-utrygt-sted/tak/", views.report_thanks, name="report_thanks"),
]
