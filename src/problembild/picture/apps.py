from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PictureConfig(AppConfig):
    name = "problembild.picture"
    verbose_name = _("Problembild (beräknade resultat)")
