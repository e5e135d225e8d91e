"""The admin: checklist templates, editable per municipality (categories and rated
parameters inline). Walks, findings and actions are worked on in the walk pages, where the
roles and the state table apply."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tryg.accounts.models import Organisation
from tryg.walks.checklists import copy_for
from tryg.walks.models import ChecklistCategory, ChecklistTemplate, RatedParameter


class CategoryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ChecklistCategory
    extra = 1


class ParameterInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RatedParameter
    extra = 1


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "organisation", "rating_max")
    inlines = (CategoryInline, ParameterInline)
    actions = ("copy_for_organisation",)

    @admin.action(description=_("Make an editable copy for the municipality"))
    def copy_for_organisation(self, request: HttpRequest,
                              queryset: QuerySet[ChecklistTemplate]) -> None:
        """Copy each template for its municipality (the shipped default: for the first
        municipality), to be edited there."""
        for template in queryset:
            owner = template.organisation or Organisation.objects.filter(
                kind=Organisation.Kind.MUNICIPALITY).first()
            if owner is None:
                messages.error(request, _("There is no municipality to copy it for."))
                continue
            made = copy_for(owner, template)
            messages.success(request, _("Copied as “%(name)s”.") % {"name": made.name})
