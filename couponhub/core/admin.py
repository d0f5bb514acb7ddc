from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from couponhub.core.models import AuditEntry, Job, Org, RoleAssignment, SmsAccount, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    autocomplete_fields = ["org"]


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [RoleAssignmentInline]
    fieldsets = (*UserAdmin.fieldsets, ("CouponHub", {"fields": ("phone",)}))


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
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


admin.site.register(SmsAccount)
