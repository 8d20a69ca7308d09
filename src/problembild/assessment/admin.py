from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Answer, CriteriaSet, Criterion, Decision, Round, SocioValue


class CriterionInline(admin.StackedInline):
    model = Criterion
    extra = 0


@admin.register(CriteriaSet)
class CriteriaSetAdmin(admin.ModelAdmin):
    """Criteria sets are written here (a new version per change); rounds are made on the pages."""

    list_display = ("year", "version", "categories", "objective_min", "objective_top", "decided", "example")
    inlines = [CriterionInline]


@admin.register(SocioValue)
class SocioValueAdmin(admin.ModelAdmin):
    list_display = ("area", "year", "measure", "value", "synthetic", "source")
    list_filter = ("measure", "year", "synthetic")
    search_fields = ("area__name",)


@admin.register(Round)
class RoundAdmin(SimpleHistoryAdmin):
    list_display = ("year", "status", "deadline", "cutoff", "opened_by", "example")
    readonly_fields = ("status", "published")


@admin.register(Answer)
class AnswerAdmin(SimpleHistoryAdmin):
    list_display = ("round", "name", "org_unit", "status", "proposed_category")
    list_filter = ("round", "status")
    readonly_fields = ("status", "submitted", "submitted_by", "objective")


@admin.register(Decision)
class DecisionAdmin(SimpleHistoryAdmin):
    list_display = ("answer", "category", "decided_by_name", "decided")
