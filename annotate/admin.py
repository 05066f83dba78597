"""Django admin for projects, members, items, annotations, tasks and events."""

from django.contrib import admin

from annotate.models import (
    Annotation,
    Event,
    Item,
    Membership,
    Pipeline,
    Project,
    Task,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class PipelineInline(admin.StackedInline):
    model = Pipeline
    can_delete = False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_by", "created_at", "item_count"]
    search_fields = ["name"]
    inlines = [PipelineInline, MembershipInline]

    @admin.display(description="items")
    def item_count(self, obj):
        return obj.items.count()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]
    autocomplete_fields = ["user"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "original_name",
        "project",
        "status",
        "split",
        "priority",
        "uncertainty",
        "width",
        "height",
        "created_at",
    ]
    list_filter = ["project", "status", "split"]
    search_fields = ["original_name", "checksum"]
    readonly_fields = ["checksum", "file", "width", "height", "size_bytes", "embedding"]
    list_select_related = ["project"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "item",
        "kind",
        "label",
        "source",
        "model_version_id",
        "confidence",
        "author",
        "updated_at",
    ]
    list_filter = ["kind", "source", "item__project"]
    search_fields = ["label"]
    raw_id_fields = ["item"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "item",
        "kind",
        "assignee",
        "status",
        "lease_expires_at",
        "created_at",
    ]
    list_filter = ["kind", "status", "project"]
    raw_id_fields = ["item"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "project", "actor", "verb", "item"]
    list_filter = ["verb", "project"]
    raw_id_fields = ["item"]
