from django.contrib import admin

from .models import AccessLogEntry, AccessReview, ImportRecord, OrgUnit, Profile


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "code", "parent")
    list_filter = ("kind",)
    search_fields = ("name", "code")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "org_unit")
    search_fields = ("user__username", "org_unit__name")
    autocomplete_fields = ("org_unit",)


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """Read-only: the access log is append-only, nobody edits or deletes it."""

    list_display = (
        "time",
        "username",
        "roles",
        "unit",
        "action",
        "object_type",
        "object_repr",
        "reason",
        "recipient",
    )
    list_filter = ("action", "object_type")
    search_fields = ("username", "object_repr", "object_id", "reason", "recipient")
    date_hierarchy = "time"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessReview)
class AccessReviewAdmin(admin.ModelAdmin):
    list_display = ("reviewed_at", "reviewer", "users_reviewed")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    list_display = ("started_at", "kind", "file_name", "username", "status", "accepted", "rejected", "added")
    list_filter = ("kind", "status")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
