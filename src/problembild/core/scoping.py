"""The one scoping mechanism: which org units, and so which areas, a user may see.

Every query of area data goes through :func:`visible_unit_paths` (via the querysets'
``for_user``), so pages, the API and exports share one rule: a user sees the areas whose
lokalpolisområde lies at or below the user's own org unit. Superusers see everything.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import connections, models, router
from django.db.models import Q

from .db import model_sql
from .models import OrgUnit, Profile


def _access_sql(connection) -> str:
    """One row per group of the user (none: one row of NULLs), each with the user's unit columns."""
    q = connection.ops.quote_name
    user_meta = get_user_model()._meta
    through = get_user_model().groups.through._meta
    unit_cols = ", ".join(f"o.{q(f.column)}" for f in OrgUnit._meta.concrete_fields)
    return (
        f"SELECT {unit_cols}, g.{q(Group._meta.get_field('name').column)} "
        f"FROM {q(user_meta.db_table)} u "
        f"LEFT JOIN {q(Profile._meta.db_table)} p "
        f"ON p.{q(Profile._meta.get_field('user').column)} = u.{q(user_meta.pk.column)} "
        f"LEFT JOIN {q(OrgUnit._meta.db_table)} o "
        f"ON o.{q(OrgUnit._meta.pk.column)} = p.{q(Profile._meta.get_field('org_unit').column)} "
        f"LEFT JOIN {q(through.db_table)} ug "
        f"ON ug.{q(through.get_field(user_meta.model_name).column)} = u.{q(user_meta.pk.column)} "
        f"LEFT JOIN {q(Group._meta.db_table)} g "
        f"ON g.{q(Group._meta.pk.column)} = ug.{q(through.get_field('group').column)} "
        f"WHERE u.{q(user_meta.pk.column)} = %s"
    )


def load_access(user) -> None:
    """Read the org unit and the group names of ``user`` in one query and keep them on the user object.

    Every page needs both (scope, menu, access log): one query instead of three (profile,
    unit, groups), read once per request since the request's user object carries them.
    """
    db = router.db_for_read(Profile)
    connection = connections[db]
    fields = [f.attname for f in OrgUnit._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(model_sql("user access", connection, _access_sql), [user.pk])
        rows = cursor.fetchall()
    unit_row = rows[0][: len(fields)] if rows else None
    user._problembild_unit = (
        OrgUnit.from_db(db, fields, unit_row) if unit_row and unit_row[0] is not None else None
    )
    user._problembild_groups = frozenset(row[-1] for row in rows if row[-1] is not None)


def unit_for(user) -> OrgUnit | None:
    """The org unit of ``user``, or None when the user has none."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_problembild_unit"):
        load_access(user)
    return user._problembild_unit


def sees_everything(user) -> bool:
    """True for superusers and users placed at the national level."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    unit = unit_for(user)
    return unit is not None and unit.kind == OrgUnit.Kind.NATION


def unit_q(user, field: str) -> Q:
    """A ``Q`` limiting ``field`` (a path to an ``OrgUnit``) to units visible to ``user``.

    Users without a unit see nothing: ``Q(pk__in=[])`` is a filter that matches no row.
    """
    if sees_everything(user):
        return Q()
    unit = unit_for(user)
    if unit is None:
        return Q(pk__in=[])
    return Q(**{f"{field}__path": unit.path}) | Q(**{f"{field}__path__startswith": unit.path + "/"})


def scope_key(user) -> str:
    """What decides everything ``user`` may see: ``*`` (everything), the unit's path, or ``-`` (nothing).

    Two users with the same key see the same areas and units, so pages cached per key are
    safe to share between them.
    """
    if sees_everything(user):
        return "*"
    unit = unit_for(user)
    return unit.path if unit is not None else "-"


def visible_units(user):
    """Org units visible to ``user`` (their own unit and everything below it)."""
    if sees_everything(user):
        return OrgUnit.objects.all()
    unit = unit_for(user)
    if unit is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(Q(path=unit.path) | Q(path__startswith=unit.path + "/"))


def unit_visible(user, unit: OrgUnit) -> bool:
    """``unit`` lies within the user's scope: :func:`unit_q`'s rule for one unit already read."""
    if sees_everything(user):
        return True
    own = unit_for(user)
    return own is not None and own.contains(unit)


def require_unit_visible(user, unit: OrgUnit) -> None:
    """Raise ``PermissionDenied`` unless ``unit`` lies within the user's scope."""
    if not unit_visible(user, unit):
        raise PermissionDenied("This unit is outside your organisational scope.")


def in_scope(user, roles, unit: OrgUnit) -> bool:
    """``user`` holds one of ``roles`` and ``unit`` lies within the user's scope."""
    from .roles import has_role

    if not has_role(user, roles):
        return False
    try:
        require_unit_visible(user, unit)
    except PermissionDenied:
        return False
    return True


class ScopedQuerySet(models.QuerySet):
    """A queryset whose rows belong to an org unit through :attr:`scope_field` (a path to an OrgUnit)."""

    scope_field = "org_unit"

    def for_user(self, user):
        """The rows within the user's organisational scope (the one scoping rule, :func:`unit_q`)."""
        return self.filter(unit_q(user, self.scope_field))


def scoped_by(field: str) -> type[ScopedQuerySet]:
    """A :class:`ScopedQuerySet` for rows reaching their org unit through ``field``
    (e.g. ``"area__org_unit"``): ``objects = scoped_by("area__org_unit").as_manager()``."""
    name = "".join(part.title() for part in field.split("__")) + "ScopedQuerySet"
    return type(name, (ScopedQuerySet,), {"scope_field": field, "__module__": __name__})
