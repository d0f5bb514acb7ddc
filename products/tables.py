import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from couponhub.core.tables import Table, TemplateColumn
from products.models import Category, Product, ProductImport


def _status(value: bool) -> str:
    return str(_("enabled (food master)") if value else _("disabled (food master)"))


class CategoryTable(Table):
    parent = tables.Column(_("parent food category"), accessor="parent__name")
    enabled = tables.Column(_("status (food master)"))
    actions = TemplateColumn(
        template_name="products/_category_actions.html",
        verbose_name=_("actions (food master)"),
        orderable=False,
    )

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "enabled", "updated_at", "actions"]

    def render_enabled(self, value):
        return _status(value)


class ProductTable(Table):
    category = tables.Column(
        _("food category"), accessor="category__name", order_by=("category__code",)
    )
    enabled = tables.Column(_("status (food master)"))
    actions = TemplateColumn(
        template_name="products/_product_actions.html",
        verbose_name=_("actions (food master)"),
        orderable=False,
    )

    class Meta:
        model = Product
        fields = ["sku", "name", "category", "unit", "price", "enabled", "updated_at", "actions"]

    def render_category(self, record):
        return record.category.label if record.category_id else "—"

    def render_enabled(self, value):
        return _status(value)


class ProductImportTable(Table):
    job = tables.LinkColumn("core:job_detail", args=[tables.A("job_id")], verbose_name=_("job"))
    status = tables.Column(_("status"), accessor="job__status", orderable=False)

    class Meta:
        model = ProductImport
        fields = [
            "created_at",
            "original_name",
            "total_rows",
            "created_count",
            "updated_count",
            "invalid_count",
            "status",
            "job",
        ]

    def render_job(self, record):
        return record.job.title if record.job else "—"

    def render_status(self, record):
        return record.job.get_status_display() if record.job else "—"
