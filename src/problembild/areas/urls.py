from django.urls import path

from . import views

app_name = "areas"

urlpatterns = [
    path("geo/areas.geojson", views.areas_geojson, name="areas_geojson"),
    path("geo/municipalities.geojson", views.municipalities_geojson, name="municipalities_geojson"),
]
