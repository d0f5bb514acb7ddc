from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from couponhub.core.audit import record_audit, snapshot
from couponhub.core.models import AuditEntry, Job, Org, RoleAssignment, SmsAccount, User

SECRET_FIELDS = {"password"}


class AuditedAdmin(admin.ModelAdmin):
    """Writes made through Django's admin land in our audit log like any other."""

    def _snapshot(self, obj):
        return {k: v for k, v in snapshot(obj).items() if k not in SECRET_FIELDS}

    def save_model(self, request, obj, form, change):
        before = self._snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        record_audit(
            actor=request.user,
            action=f"admin.{'change' if change else 'add'}",
            obj=obj,
            before=before,
            after=self._snapshot(obj),
        )

    def delete_model(self, request, obj):
        before = self._snapshot(obj)
        record_audit(actor=request.user, action="admin.delete", obj=obj, before=before)
        super().delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            record_audit(actor=request.user, action="admin.delete", obj=obj)
            obj.delete()
        for obj in instances:
            obj.save()
            record_audit(actor=request.user, action="admin.save", obj=obj, after=snapshot(obj))
        formset.save_m2m()


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    autocomplete_fields = ["org"]


@admin.register(User)
class StaffUserAdmin(AuditedAdmin, UserAdmin):
    inlines = [RoleAssignmentInline]
    fieldsets = (*UserAdmin.fieldsets, ("CouponHub", {"fields": ("phone",)}))


@admin.register(Org)
class OrgAdmin(AuditedAdmin):
    list_display = ["name", "code", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["path"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_name", "action", "object_type", "object_repr"]
    list_filter = ["action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "owner", "status", "done", "total", "created_at"]
    list_filter = ["status", "kind"]


admin.site.register(SmsAccount, AuditedAdmin)
