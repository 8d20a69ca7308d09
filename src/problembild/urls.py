"""URL configuration: the shell (login, language, admin, API) and each domain app's pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from problembild.api import api_urls

admin.site.site_header = "Problembild – administration"
admin.site.site_title = "Problembild"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("api/", api_urls()),
    path("admin/", admin.site.urls),
    path("", include("problembild.core.urls")),
    path("", include("problembild.areas.urls")),
    path("", include("problembild.incidents.urls")),
    path("", include("problembild.picture.urls")),
    path("resources/", include("problembild.resources.urls")),
    path("followup/", include("problembild.followup.urls")),
    path("competence/", include("problembild.competence.urls")),
    path("audit/", include("problembild.audit.urls")),
    path("assessment/", include("problembild.assessment.urls")),
]

handler403 = "problembild.web.views.permission_denied"
