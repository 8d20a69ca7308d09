from django.urls import path

from . import feed, imports_view, views

app_name = "web"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("areas/<int:panel_id>/", views.area_detail, name="area"),
    path("areas/<int:panel_id>/print/", views.area_print, name="area_print"),
    path("areas/<int:panel_id>/export.<str:fmt>", views.area_export, name="area_export"),
    path("export/overview.<str:fmt>", views.overview_export, name="overview_export"),
    path("units/<str:code>/", views.unit_detail, name="unit"),
    path("geo/areas.geojson", views.areas_geojson, name="areas_geojson"),
    path("geo/municipalities.geojson", views.municipalities_geojson, name="municipalities_geojson"),
    path("feed/", feed.feed, name="feed"),
    path("feed/export.<str:fmt>", feed.feed_export, name="feed_export"),
    path("import/", imports_view.import_page, name="import"),
    path("import/commit/", imports_view.import_commit, name="import_commit"),
    path("import/records.<str:fmt>", imports_view.import_records_export, name="import_records_export"),
    path(
        "import/<str:token>/errors.<str:fmt>", imports_view.import_errors_export, name="import_errors_export"
    ),
]
