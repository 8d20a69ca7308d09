from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("access-log/", views.access_log, name="access_log"),
    path("access-review/", views.access_review, name="access_review"),
]
