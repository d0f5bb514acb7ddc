from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# what the runners store in Job.result, as the job page names it (pickup's runners store
# Chinese keys already)
RESULT_LABELS = {
    "errors": _("rows refused"),
    "gifted": _("coupons gifted"),
    "generated": _("coupons generated"),
    "imported": _("rows imported"),
}


def _sentence(error) -> str:
    """{'row': 2, 'value': '138…', 'error': '会员不存在'} → 第2行（138…）：会员不存在"""
    if not isinstance(error, dict):
        return str(error)
    row, value, reason = error.get("row"), error.get("value"), error.get("error", "")
    where = _("Row %(row)s") % {"row": row} if row is not None else ""
    if value:
        where = f"{where}（{value}）"
    return f"{where}：{reason}" if where else str(reason)


@register.filter
def job_result_items(result: dict) -> list[tuple[str, object]]:
    """[(label, value)] of a job's result; a list of row errors becomes Chinese sentences."""
    items = []
    for key, value in (result or {}).items():
        label = str(RESULT_LABELS.get(key, key))
        if isinstance(value, list):
            value = [_sentence(v) for v in value]
        items.append((label, value))
    return items
