from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "problembild.web"
    verbose_name = "Web"
