from django.contrib import admin

from .models import Area, AssessmentRound, Classification, Municipality, Population


class ClassificationInline(admin.TabularInline):
    model = Classification
    extra = 0
    fields = ("round", "category", "direction", "assessed")


class PopulationInline(admin.TabularInline):
    model = Population
    extra = 0


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("name", "panel_id", "town", "org_unit", "municipality", "area_km2")
    list_filter = ("org_unit__parent__parent", "classifications__round", "classifications__category")
    search_fields = ("name", "town", "area_code", "panel_id")
    readonly_fields = ("geometry", "area_km2")
    raw_id_fields = ("parent",)
    inlines = [ClassificationInline, PopulationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user).select_related("org_unit", "municipality")


@admin.register(AssessmentRound)
class AssessmentRoundAdmin(admin.ModelAdmin):
    list_display = ("year", "categories", "source")


@admin.register(Classification)
class ClassificationAdmin(admin.ModelAdmin):
    list_display = ("area", "round", "category", "direction", "assessed")
    list_filter = ("round", "category", "direction")
    search_fields = ("area__name",)


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "county_code", "population", "population_year")
    search_fields = ("name", "code")
    exclude = ("geometry",)


@admin.register(Population)
class PopulationAdmin(admin.ModelAdmin):
    list_display = ("area", "year", "residents", "synthetic", "source")
    list_filter = ("year", "synthetic")
    search_fields = ("area__name",)
