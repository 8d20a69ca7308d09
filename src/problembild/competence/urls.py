from django.urls import path

from . import views

app_name = "competence"

urlpatterns = [
    path("", views.index, name="index"),
    path("needs/", views.needs, name="needs"),
    path("profiles/", views.profiles, name="profiles"),
    path("profiles/<str:role>/new/", views.profile_new, name="profile_new"),
    path("courses/", views.courses, name="courses"),
    path("courses/export.<str:fmt>", views.courses_export, name="courses_export"),
    path("units/<str:code>/", views.unit_page, name="unit"),
    path("units/<str:code>/export.<str:fmt>", views.unit_export, name="unit_export"),
    path("units/<str:code>/plans/", views.plan_create, name="plan_create"),
    path("staff/<str:pseudonym>/", views.person_page, name="person"),
    path("staff/<str:pseudonym>/export.<str:fmt>", views.person_export, name="person_export"),
    path("staff/<str:pseudonym>/assess/", views.assess, name="assess"),
    path("plans/<int:plan_id>/", views.plan_page, name="plan"),
    path("plans/<int:plan_id>/export.<str:fmt>", views.plan_export, name="plan_export"),
]
