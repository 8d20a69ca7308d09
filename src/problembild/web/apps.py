from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "problembild.web"
    verbose_name = "Web"

    def ready(self) -> None:
        from problembild.core.shell import register_shell_key

        from .context_processors import shell_key

        # What base.html shows of the user, so cached page shells are kept per user (core/shell.py).
        register_shell_key(shell_key)
