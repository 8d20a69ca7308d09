from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def latest_refresh() -> str:
    """The latest finished refresh run (id and time, as the database gives them), or "never".

    Part of the cached pages' stamp, so read on every page view: one prepared statement
    instead of an ORM query, whose compilation cost several times the query itself.
    """
    from django.db import connections, router

    from problembild.core.db import model_sql

    from .models import RefreshRun

    connection = connections[router.db_for_read(RefreshRun)]
    with connection.cursor() as cursor:
        cursor.execute(model_sql("latest refresh", connection, _latest_refresh_sql))
        row = cursor.fetchone()
    # An opaque token: SQLite gives the time as text, PostgreSQL as a datetime; only equality matters.
    return f"{row[0]}@{row[1]}" if row else "never"


def _latest_refresh_sql(connection) -> str:
    from .models import RefreshRun

    q = connection.ops.quote_name
    pk, finished = q(RefreshRun._meta.pk.column), q(RefreshRun._meta.get_field("finished_at").column)
    return (
        f"SELECT {pk}, {finished} FROM {q(RefreshRun._meta.db_table)} WHERE {finished} IS NOT NULL "
        f"ORDER BY {finished} DESC, {pk} DESC LIMIT 1"
    )


class PictureConfig(AppConfig):
    name = "problembild.picture"
    verbose_name = _("Problembild (beräknade resultat)")

    def ready(self) -> None:
        from problembild.core.cache import register_stamp_part

        # A finished refresh changes every figure the cached pages show.
        register_stamp_part("refresh", latest_refresh)
