from django.urls import path

from . import views
from .views import imports as import_views

app_name = "core"

urlpatterns = [
    path("access-log/", views.access_log, name="access_log"),
    path("access-review/", views.access_review, name="access_review"),
    path("import/", views.import_page, name="import"),
    path("import/commit/", views.import_commit, name="import_commit"),
    path("import/cancel/", import_views.import_cancel, name="import_cancel"),
    path("import/<str:token>/status/", import_views.import_status, name="import_status"),
    path("import/records.<str:fmt>", views.import_records_export, name="import_records_export"),
    path("import/<str:token>/errors.<str:fmt>", views.import_errors_export, name="import_errors_export"),
]
