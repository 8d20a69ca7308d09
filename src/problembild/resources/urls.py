from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("", views.index, name="index"),
    path("units/<str:code>/", views.unit_page, name="unit"),
    path("units/<str:code>/export.<str:fmt>", views.unit_export, name="unit_export"),
    path("units/<str:code>/scenarios/", views.scenario_create, name="scenario_create"),
    path("units/<str:code>/capacity/<str:month>/", views.capacity_edit, name="capacity"),
    path("scenarios/<int:pk>/", views.scenario_page, name="scenario"),
    path("scenarios/<int:pk>/export.<str:fmt>", views.scenario_export, name="scenario_export"),
    path("areas/<int:panel_id>/staffing/<str:month>/", views.staffing_edit, name="staffing"),
]
