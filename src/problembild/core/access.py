"""Writing the access log: one function for pages, the API, exports and the CLI."""

from __future__ import annotations

from django.db import connections, models, router

from .db import model_sql
from .models import AccessLogEntry
from .roles import role_codes
from .scoping import unit_for


def log_access(
    user,
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    reason: str = "",
    recipient: str = "",
    path: str = "",
) -> AccessLogEntry:
    """Append one entry to the access log and return it.

    ``user`` may be an anonymous user or None (CLI runs without a login record the
    operating-system user as ``username`` through the caller).
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    authenticated = getattr(user, "is_authenticated", False)
    unit = unit_for(user) if authenticated else None
    entry = AccessLogEntry(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else (getattr(user, "username", "") or "anonymous"),
        roles=",".join(sorted(role_codes(user))) if authenticated else "",
        unit=unit.name if unit else "",
        action=action,
        object_type=object_type[:60],
        object_id=str(object_id)[:100],
        object_repr=object_repr[:300],
        reason=reason[:500],
        recipient=recipient[:300],
        path=path[:500],
    )
    _insert(entry)
    return entry


def _insert(entry: AccessLogEntry) -> None:
    """Write ``entry`` with one prepared INSERT (every page view writes one).

    What ``save()`` does for a new row, without building and compiling an ORM insert per
    request: the fields' own conversion to database values, then the id read back.
    """
    connection = connections[router.db_for_write(AccessLogEntry)]
    sql, fields = model_sql("access-log insert", connection, _insert_sql)
    values = [field.get_db_prep_save(field.pre_save(entry, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        entry.pk = (
            cursor.fetchone()[0] if connection.features.can_return_columns_from_insert else cursor.lastrowid
        )
    entry._state.adding = False
    entry._state.db = connection.alias


def _insert_sql(connection) -> tuple[str, list]:
    """The INSERT of :func:`_insert` and the fields it writes."""
    meta = AccessLogEntry._meta
    q = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {q(meta.pk.column)}"
    return sql, fields


def log_request(request, action: str, **kwargs) -> AccessLogEntry:
    """:func:`log_access` for a request: the user and the path come from it."""
    kwargs.setdefault("path", request.get_full_path())
    return log_access(request.user, action, **kwargs)
