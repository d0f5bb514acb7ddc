"""Every write of the promo-code domain: one transaction each, audited inside.

One module per area; callers import from here (`promocodes.services.apply_for_promo_codes`):

- `channels`: channels and departments
- `budgets`: department budgets, finance limits, what an application may cost
- `code_generation`: an application's manual or random codes
- `applications`: apply, change a draft, submit, approve, reject, invalidate, export
- `checkout`: validate, use and cancel a code at an order (SPEC.md §10)
- `exports`: the application list's exports (applications, or the uses of their codes)
"""

from promocodes.services.applications import (
    APPLICATION_FIELDS,
    ApplyResult,
    apply_for_promo_codes,
    approve_applications,
    change_draft_application,
    channel_department_warning,
    export_codes,
    invalidate_application,
    reject_applications,
    submit_applications,
)
from promocodes.services.budgets import (
    FINANCE_LIMIT_FIELDS,
    RULE_FIELD,
    budget_for,
    cost_errors,
    set_department_budget,
    update_finance_limits,
)
from promocodes.services.channels import change_channel_status, create_channel, create_department
from promocodes.services.checkout import (
    Checkout,
    Item,
    Quote,
    cancel_promo_use,
    eligible_amount,
    use_promo_code,
    validate_promo_code,
)
from promocodes.services.code_generation import (
    AUTO_ALPHABET,
    AUTO_LENGTH,
    MANUAL_CODE_RE,
    MAX_AUTO_CODES,
)
from promocodes.services.exports import APPLICATIONS_EXPORT, USES_EXPORT, start_list_export

__all__ = [
    "APPLICATIONS_EXPORT",
    "APPLICATION_FIELDS",
    "AUTO_ALPHABET",
    "AUTO_LENGTH",
    "FINANCE_LIMIT_FIELDS",
    "MANUAL_CODE_RE",
    "MAX_AUTO_CODES",
    "RULE_FIELD",
    "USES_EXPORT",
    "ApplyResult",
    "Checkout",
    "Item",
    "Quote",
    "apply_for_promo_codes",
    "approve_applications",
    "budget_for",
    "cancel_promo_use",
    "change_channel_status",
    "change_draft_application",
    "channel_department_warning",
    "cost_errors",
    "create_channel",
    "create_department",
    "eligible_amount",
    "export_codes",
    "invalidate_application",
    "reject_applications",
    "set_department_budget",
    "start_list_export",
    "submit_applications",
    "update_finance_limits",
    "use_promo_code",
    "validate_promo_code",
]
