"""The admin: accounts (role and organisation on the add and change forms) and the read-only
audit log.

The forms are model forms, so :meth:`tryg.accounts.models.User.clean` and the
``partner_has_organisation`` constraint are checked before anything is saved: a partner
without an organisation is refused on the form with a message at the field.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from tryg.accounts.models import AuditEvent, Organisation, User


@admin.register(User)
class TrygUserAdmin(UserAdmin):  # type: ignore[type-arg]
    fieldsets = (*UserAdmin.fieldsets, ("tryg", {"fields": ("role", "organisation")}))  # type: ignore[misc]
    add_fieldsets = (*UserAdmin.add_fieldsets,
                     ("tryg", {"fields": ("role", "organisation")}))
    list_display = ("username", "email", "role", "organisation", "is_active")
    list_filter = ("role", "organisation", "is_active")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "kind", "area_code")
    list_filter = ("kind",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "actor_name", "action", "target")
    list_filter = ("action",)
    search_fields = ("target", "actor_name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
