"""The area's yearly problem picture document: started from the computed picture, carried into
the next year, edited by the unit's chief or delegates, its intelligence assessment read by
intelligence roles only."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from problembild.areas.models import Area
from problembild.core.roles import (
    ADMINISTRATOR,
    INTELLIGENCE_COORDINATOR,
    LOCAL_CHIEF,
    MANAGER_ROLES,
    NATIONAL_ANALYST,
    has_role,
)
from problembild.core.scoping import unit_for
from problembild.picture.models import AreaPicture

from .models import Assessment, Delegate, Partner, PictureDocument, Priority, Promise

#: Who reads intelligence assessments: the intelligence coordinators and Noa's analysts.
INTELLIGENCE_ROLES = frozenset({INTELLIGENCE_COORDINATOR, NATIONAL_ANALYST})


def picture_figures(area: Area) -> dict:
    """What the document pulls in from the computed picture (not retyped): the twelve months per
    indicator with their change, trends, need, hot spots and forecast, the officer rule."""
    picture = (
        AreaPicture.objects.filter(area=area)
        .values(
            "computed_at",
            "data__as_of",
            "data__residents",
            "data__population_synthetic",
            "data__year_figures",
            "data__trends",
            "data__need",
            "data__officer_rule",
            "data__space__n_hot",
            "data__space__forecast__status",
            "data__space__forecast__method",
            "data__window",
        )
        .first()
    )
    if picture is None:
        return {}
    trends = {
        code: {k: t.get(k) for k in ("status", "rate_ratio", "ci_low", "ci_high", "mark")}
        for code, t in (picture["data__trends"] or {}).items()
    }
    return {
        "computed_at": picture["computed_at"].isoformat(timespec="seconds"),
        "as_of": picture["data__as_of"],
        "window": picture["data__window"],
        "residents": picture["data__residents"],
        "population_synthetic": picture["data__population_synthetic"],
        "year_figures": picture["data__year_figures"] or {},
        "trends": trends,
        "need": {k: (picture["data__need"] or {}).get(k) for k in ("need_index", "rank", "weighted_total")},
        "officer_rule": picture["data__officer_rule"],
        "hot_cells": picture["data__space__n_hot"],
        "forecast": {
            "status": picture["data__space__forecast__status"],
            "method": picture["data__space__forecast__method"],
        },
    }


@transaction.atomic
def start_document(area: Area, year: int, *, user=None, example: bool = False) -> PictureDocument:
    """The area's document for ``year``: the existing one, or a new one that starts from last
    year's (texts, priorities, partners and open promises carried over) with today's figures."""
    existing = PictureDocument.objects.filter(area=area, year=year).first()
    if existing is not None:
        return existing
    previous = PictureDocument.objects.filter(area=area, year__lt=year).order_by("-year").first()
    doc = PictureDocument(
        area=area,
        year=year,
        previous=previous,
        figures=picture_figures(area),
        figures_at=timezone.now(),
        updated_by=user if getattr(user, "is_authenticated", False) else None,
        example=example,
    )
    if previous is not None:
        for field in ("summary", "dialogue", "challenges", "measures", "resources_plan"):
            setattr(doc, field, getattr(previous, field))
    doc.save()
    if previous is not None:
        for p in previous.priorities.all():
            Priority.objects.create(
                document=doc,
                rank=p.rank,
                title=p.title,
                description=p.description,
                indicators=p.indicators,
                hot_spots=p.hot_spots,
                assessment=p.assessment,
            )
        for p in previous.partners.all():
            Partner.objects.create(document=doc, kind=p.kind, name=p.name, role=p.role)
        for p in previous.promises.exclude(status__in=[Promise.Status.DONE, Promise.Status.DROPPED]):
            Promise.objects.create(
                document=doc, commitment=p.commitment, owners=p.owners, deadline=p.deadline, status=p.status
            )
    return doc


def refresh_figures(doc: PictureDocument) -> None:
    """Pull the computed picture into the document again (the texts are left as they are)."""
    doc.figures = picture_figures(doc.area)
    doc.figures_at = timezone.now()
    PictureDocument.objects.filter(pk=doc.pk).update(figures=doc.figures, figures_at=doc.figures_at)


def may_edit(user, area: Area) -> bool:
    """The local police area's chief (or a chief above it), an administrator, or a delegate of its unit."""
    if not getattr(user, "is_authenticated", False):
        return False
    if has_role(user, {ADMINISTRATOR}):
        return True
    own = unit_for(user)
    if has_role(user, {LOCAL_CHIEF}) and own is not None and own.contains(area.org_unit):
        return True
    units = [area.org_unit, *area.org_unit.ancestors()]
    return Delegate.objects.filter(user=user, org_unit__in=units).exists()


def may_log_activity(user, area: Area) -> bool:
    """Who records activities: the document's editors, the area's managers and intelligence coordinators."""
    if may_edit(user, area):
        return True
    own = unit_for(user)
    roles = {INTELLIGENCE_COORDINATOR, *MANAGER_ROLES}
    return has_role(user, roles) and own is not None and own.contains(area.org_unit)


def may_read_assessment(user) -> bool:
    return has_role(user, INTELLIGENCE_ROLES)


def may_edit_assessment(user, area: Area) -> bool:
    """Intelligence coordinators of a unit containing the area."""
    own = unit_for(user)
    return has_role(user, {INTELLIGENCE_COORDINATOR}) and own is not None and own.contains(area.org_unit)


def assessment_of(doc: PictureDocument) -> Assessment:
    return Assessment.objects.filter(document=doc).first() or Assessment(document=doc)
