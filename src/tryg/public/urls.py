"""The public pages, included at the site root (the front page itself is named "home", outside
the namespace, in :mod:`tryg.site.urls`, because every page's header links to it).

The downloads have one pattern per format (same name, the format as a fixed argument), so
``reverse("public:download", kwargs={"fmt": "csv"})`` works and no other format resolves.
"""

from django.urls import path

from tryg.public import downloads as files
from tryg.public import views

app_name = "public"

urlpatterns = [
    path("map/", views.area_map, name="map"),
    path("areas/<str:code>/", views.area, name="area"),
    path("methods/", views.methods, name="methods"),
    path("search/", views.search, name="search"),
    path("downloads/", views.downloads, name="downloads"),
    *(path(f"downloads/results.{fmt}", views.download, {"fmt": fmt}, name="download")
      for fmt in views.DOWNLOAD_FORMATS),
    path("downloads/results-excel.csv", views.download, {"fmt": files.EXCEL_CSV},
         name="download"),
    path("downloads/codebook.csv", views.download, {"fmt": files.CODEBOOK_CSV},
         name="download"),
    path("downloads/codebook/", views.codebook, name="codebook"),
]
