"""What the pickup pages share: the permissions they check and small request helpers."""

from django.shortcuts import redirect

from couponhub.core.forms import ids_from

VIEW, MANAGE, VERIFY = "pickup.view", "pickup.manage", "pickup.verify_store_order"


def selected_ids(request) -> list[int]:
    """The ticked rows of a list (checkboxes named "ids")."""
    return ids_from(request.POST.getlist("ids"))


def redirect_back(request, default: str):
    """Back to the page named by POST "next" when it is a local path, else to `default`."""
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else default)
