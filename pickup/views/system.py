"""System pages: pickup settings, the SMS account, the operation log."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from couponhub.core import sms
from couponhub.core.models import SmsMessage
from couponhub.core.permissions import permission_required
from couponhub.core.tables import SmsMessageTable
from couponhub.core.views import paginate
from pickup import filters, forms, selectors, services, tables
from pickup.models import PickupSettings, TopUpOrder
from pickup.views.common import MANAGE, VIEW


@permission_required(MANAGE)
def settings_page(request):
    instance = PickupSettings.load()
    form = forms.SettingsForm(request.POST or None, request.FILES or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.save_settings(
            actor=request.user,
            instance=form.save(commit=False),
            logo_bytes=form.cleaned_data.get("logo_upload"),
        )
        messages.success(request, _("Settings saved."))
        return redirect("pickup:settings")
    return render(request, "pickup/settings.html", {"form": form, "settings_obj": instance})


@permission_required(MANAGE)
def sms_page(request):
    account = sms.get_account()
    qs = SmsMessage.objects.filter(purpose__startswith="pickup")
    return render(
        request,
        "pickup/sms.html",
        {
            "account": account,
            "price": sms.sms_price(),
            "top_ups": account.top_ups.select_related("actor")[:20],
            "table": paginate(request, SmsMessageTable(qs)),
            "purpose": TopUpOrder.Purpose.SMS,
            "top_up_form": forms.TopUpForm(),
            "top_up_orders": selectors.top_up_orders(TopUpOrder.Purpose.SMS)[:10],
        },
    )


@permission_required(VIEW)
def operation_log(request):
    filterset = filters.PickupAuditFilter(request.GET, queryset=selectors.pickup_audit_entries())
    table = paginate(request, tables.PickupAuditTable(filterset.qs))
    return render(request, "pickup/operation_log.html", {"filter": filterset, "table": table})
