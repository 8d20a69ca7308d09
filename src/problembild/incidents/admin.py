from django.contrib import admin

from .models import Incident


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "source",
        "external_id",
        "raw_type",
        "indicator",
        "area",
        "area_match",
        "synthetic",
    )
    list_filter = ("source", "indicator", "area_match", "synthetic")
    search_fields = ("external_id", "title")
    raw_id_fields = ("area", "import_record")
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user).select_related("area")
