from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("feed/export.<str:fmt>", views.feed_export, name="feed_export"),
]
