from django.urls import path

from . import views

app_name = "followup"

urlpatterns = [
    path("", views.index, name="index"),
    path("strategy/", views.strategy, name="strategy"),
    path("methods/", views.methods, name="methods"),
    path("activities/", views.activities, name="activities"),
    path("activities/export.<str:fmt>", views.activities_export, name="activities_export"),
    path("evaluations/", views.evaluations, name="evaluations"),
    path("evaluations/<int:pk>/", views.evaluation_page, name="evaluation"),
    path("evaluations/<int:pk>/export.<str:fmt>", views.evaluation_export, name="evaluation_export"),
    path("units/<str:code>/", views.unit_page, name="unit"),
    path("units/<str:code>/delegates/", views.delegate_add, name="delegates"),
    path("units/<str:code>/reports/<str:quarter>/", views.report_page, name="report"),
    path("units/<str:code>/reports/<str:quarter>/pdf/", views.report_pdf, name="report_pdf"),
    path("areas/<int:panel_id>/<int:year>/", views.document_page, name="document"),
    path("areas/<int:panel_id>/<int:year>/start/", views.document_start, name="document_start"),
    path("areas/<int:panel_id>/<int:year>/edit/", views.document_edit, name="document_edit"),
    path("areas/<int:panel_id>/<int:year>/figures/", views.document_figures, name="document_figures"),
    path("areas/<int:panel_id>/<int:year>/assessment/", views.assessment, name="assessment"),
    path("areas/<int:panel_id>/<int:year>/print/", views.document_print, name="document_print"),
    path("areas/<int:panel_id>/<int:year>/pdf/", views.document_pdf, name="document_pdf"),
]
