from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.<str:fmt>", views.dashboard_export, name="dashboard_export"),
    path("report/", views.status_report, name="report"),
    path("report/pdf/", views.status_report_pdf, name="report_pdf"),
    path("measures/<int:measure_id>/", views.measure_page, name="measure"),
    path("measures/<int:measure_id>/action/", views.measure_action, name="measure_action"),
    path("measures/<int:measure_id>/edit/", views.measure_edit, name="measure_edit"),
    path("measures/<int:measure_id>/evidence/", views.evidence_add, name="evidence_add"),
    path("evidence/<int:evidence_id>/file/", views.evidence_file, name="evidence_file"),
]
