from django.urls import path

from . import views

app_name = "picture"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("export/overview.<str:fmt>", views.overview_export, name="overview_export"),
    path("areas/<int:panel_id>/", views.area_detail, name="area"),
    path("areas/<int:panel_id>/print/", views.area_print, name="area_print"),
    path("areas/<int:panel_id>/export.<str:fmt>", views.area_export, name="area_export"),
    path("units/<str:code>/", views.unit_detail, name="unit"),
]
