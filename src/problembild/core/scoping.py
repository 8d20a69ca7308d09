"""The one scoping mechanism: which org units, and so which areas, a user may see.

Every query of area data goes through :func:`visible_unit_paths` (via the querysets'
``for_user``), so pages, the API and exports share one rule: a user sees the areas whose
lokalpolisområde lies at or below the user's own org unit. Superusers see everything.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q

from .models import OrgUnit, Profile


def unit_for(user) -> OrgUnit | None:
    """The org unit of ``user``, or None when the user has none."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_problembild_unit"):
        try:
            user._problembild_unit = user.profile.org_unit
        except Profile.DoesNotExist:
            user._problembild_unit = None
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


def require_unit_visible(user, unit: OrgUnit) -> None:
    """Raise ``PermissionDenied`` unless ``unit`` lies within the user's scope."""
    if sees_everything(user):
        return
    own = unit_for(user)
    if own is None or not own.contains(unit):
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
