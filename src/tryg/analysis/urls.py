"""Analysts' pages: stored data, index runs, publication (included at /analyse/)."""

from django.urls import path

from tryg.analysis import data_views, diff_views, driver_views, quality_views, run_views, views

app_name = "analyse"

urlpatterns = [
    path("", views.analyse_home, name="home"),
    path("waves/", data_views.waves, name="waves"),
    path("waves/<int:year>/", data_views.wave_responses, name="wave"),
    path("imports/", data_views.imports, name="imports"),
    path("imports/<int:batch_id>/records/", data_views.import_records, name="records"),
    path("quality/", quality_views.quality, name="quality"),
    path("runs/", run_views.runs, name="runs"),
    path("runs/new/", run_views.start_run, name="start_run"),
    path("runs/compare/", diff_views.compare, name="compare"),
    path("runs/compare/csv/", diff_views.compare_csv, name="compare_csv"),
    path("runs/<int:run_id>/", run_views.run_detail, name="run"),
    path("runs/<int:run_id>/drivers/", driver_views.drivers, name="drivers"),
    path("runs/<int:run_id>/publish/", run_views.publish, name="publish"),
    path("runs/<int:run_id>/results.<str:fmt>", run_views.download, name="download"),
    path("runs/results-file/<int:job_id>/", run_views.results_xlsx, name="results_file"),
    path("runs/<int:run_id>/unpublish/", run_views.unpublish, name="unpublish"),
    path("runs/<int:run_id>/rerun/", run_views.rerun, name="rerun"),
]
