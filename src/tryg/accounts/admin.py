from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from tryg.accounts.models import AuditEvent, Organisation, User


@admin.register(User)
class TrygUserAdmin(UserAdmin):  # type: ignore[type-arg]
    fieldsets = (*UserAdmin.fieldsets, ("tryg", {"fields": ("role", "organisation")}))  # type: ignore[misc]
    list_display = ("username", "email", "role", "organisation", "is_active")
    list_filter = ("role", "organisation", "is_active")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "kind", "area_code")
    list_filter = ("kind",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "actor", "action", "target")
    list_filter = ("action",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
