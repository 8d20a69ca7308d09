from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Capacity, Scenario, Staffing


@admin.register(Staffing)
class StaffingAdmin(SimpleHistoryAdmin):
    list_display = ("area", "period", "officers", "fte", "hours_outside", "example")
    list_filter = ("period", "example")
    search_fields = ("area__name",)
    raw_id_fields = ("area",)


@admin.register(Capacity)
class CapacityAdmin(SimpleHistoryAdmin):
    list_display = ("org_unit", "period", "officers", "increase", "example")
    list_filter = ("period", "example")
    search_fields = ("org_unit__name", "org_unit__code")


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ("name", "org_unit", "kind", "period", "author_name", "created", "example")
    list_filter = ("kind", "example")
    readonly_fields = ("parameters", "result")
