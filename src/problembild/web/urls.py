from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("areas/<int:panel_id>/", views.area_detail, name="area"),
    path("geo/areas.geojson", views.areas_geojson, name="areas_geojson"),
    path("geo/municipalities.geojson", views.municipalities_geojson, name="municipalities_geojson"),
]
