from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import AuditReport, Evidence, Measure, Recommendation


class RecommendationInline(admin.TabularInline):
    model = Recommendation
    extra = 0
    fields = ("number", "text", "indicator")


@admin.register(AuditReport)
class AuditReportAdmin(SimpleHistoryAdmin):
    list_display = ("reference", "title", "issuer", "issued", "example")
    inlines = [RecommendationInline]


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):
    """Read-mostly: status moves only through the workflow on the measure's page."""

    list_display = ("title", "owner", "responsible_role", "deadline", "status", "accepted", "example")
    list_filter = ("status", "responsible_role")
    readonly_fields = ("status", "accepted", "justification", "reason", "started", "changed")


@admin.register(Evidence)
class EvidenceAdmin(SimpleHistoryAdmin):
    list_display = ("measure", "kind", "file_name", "link", "added_by_name", "added")
    readonly_fields = ("file_name", "content_type", "size", "sha256")
