from django.urls import path

from . import views

app_name = "assessment"

urlpatterns = [
    path("", views.index, name="index"),
    path("diff/", views.diff_page, name="diff"),
    path("diff/export.<str:fmt>", views.diff_export, name="diff_export"),
    path("rounds/open/", views.round_open, name="round_open"),
    path("rounds/<int:round_id>/", views.round_page, name="round"),
    path("rounds/<int:round_id>/propose/", views.propose, name="propose"),
    path("rounds/<int:round_id>/publish/", views.publish, name="publish"),
    path("answers/<int:answer_id>/", views.answer_page, name="answer"),
    path("answers/<int:answer_id>/evidence/", views.evidence_add, name="evidence_add"),
    path("answers/<int:answer_id>/decide/", views.decide, name="decide"),
    path("evidence/<int:item_id>/file/", views.evidence_file, name="evidence_file"),
]
