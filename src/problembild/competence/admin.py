from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Assessment,
    Competence,
    Completion,
    Course,
    CourseOutcome,
    CourseRound,
    Requirement,
    RoleProfile,
    Staff,
)


class RequirementInline(admin.TabularInline):
    model = Requirement
    extra = 0


@admin.register(RoleProfile)
class RoleProfileAdmin(admin.ModelAdmin):
    list_display = ("role", "version", "decided", "decided_by", "criticality", "example")
    list_filter = ("role",)
    inlines = [RequirementInline]


@admin.register(Competence)
class CompetenceAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name_sv", "name_en", "order")


class OutcomeInline(admin.TabularInline):
    model = CourseOutcome
    extra = 0


class RoundInline(admin.TabularInline):
    model = CourseRound
    extra = 0


@admin.register(Course)
class CourseAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name_sv", "days", "seats", "cost", "valid_months", "example")
    inlines = [OutcomeInline, RoundInline]


@admin.register(Staff)
class StaffAdmin(SimpleHistoryAdmin):
    list_display = ("pseudonym", "role", "org_unit", "area", "active", "example")
    list_filter = ("role", "active", "example")
    search_fields = ("pseudonym", "login")


@admin.register(Assessment)
class AssessmentAdmin(SimpleHistoryAdmin):
    list_display = ("staff", "competence", "level", "assessed", "assessor")
    list_filter = ("competence",)
    search_fields = ("staff__pseudonym",)


@admin.register(Completion)
class CompletionAdmin(SimpleHistoryAdmin):
    list_display = ("staff", "course", "completed", "expires")
    search_fields = ("staff__pseudonym",)
