"""Red-packet pages: settings, the account and its top-ups, generation, the list, claims."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from couponhub.core.errors import Refused
from couponhub.core.permissions import permission_required
from couponhub.core.views import paginate
from pickup import filters, forms, selectors, services, tables
from pickup.models import PickupCode, RedPacketAccount, RedPacketSettings, TopUpOrder
from pickup.views.common import MANAGE, selected_ids


@permission_required(MANAGE)
def red_packet_settings(request):
    form = forms.RedPacketSettingsForm(request.POST or None, instance=RedPacketSettings.load())
    if request.method == "POST" and form.is_valid():
        services.save_red_packet_settings(actor=request.user, instance=form.save(commit=False))
        messages.success(request, _("Settings saved."))
        return redirect("pickup:red_packet_settings")
    return render(request, "pickup/redpackets/settings.html", {"form": form})


@permission_required(MANAGE)
def red_packet_account(request):
    """The account, its ledger and its top-ups: a top-up is paid online (pickup:top_up) and
    raises the balance only when the payment is confirmed."""
    table = paginate(request, tables.RedPacketEntryTable(selectors.red_packet_ledger()))
    return render(
        request,
        "pickup/redpackets/account.html",
        {
            "account": RedPacketAccount.load(),
            "table": table,
            "purpose": TopUpOrder.Purpose.RED_PACKETS,
            "top_up_form": forms.TopUpForm(),
            "top_up_orders": selectors.top_up_orders(TopUpOrder.Purpose.RED_PACKETS)[:10],
        },
    )


@permission_required(MANAGE)
def red_packet_generate(request):
    """Preview how many codes a selection reaches (or why it cannot), then confirm: the
    generation runs as a background job whose progress bar the job page shows."""
    form = forms.RedPacketGenerateForm(request.POST or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        selection = selectors.clean_selection(form.cleaned_data)
        d = form.cleaned_data
        try:
            if request.POST.get("confirm"):
                job = services.start_red_packet_generation(
                    actor=request.user, selection=selection, low=d["low"], high=d["high"]
                )
                messages.success(request, _("Red packets are being generated in the background."))
                return redirect("core:job_detail", pk=job.pk)
            plan = services.plan_red_packets(selection=selection, low=d["low"], high=d["high"])
        except Refused as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "pickup/redpackets/generate.html",
        {
            "form": form,
            "preview": plan,
            "account": RedPacketAccount.load(),
            "jobs": selectors.red_packet_jobs(request.user),
        },
    )


@permission_required(MANAGE)
def red_packet_list(request):
    qs = selectors.red_packet_codes()
    if request.method == "POST":
        ids = selected_ids(request)
        if not ids:
            messages.error(request, _("Tick the codes first."))
        else:
            entry = services.clear_red_packets(
                actor=request.user, codes=PickupCode.objects.filter(pk__in=ids)
            )
            if entry is None:
                messages.error(request, _("Nothing to clear: claimed red packets stay."))
            else:
                messages.success(
                    request,
                    _("Cleared %(n)s red packets; ¥%(total)s returned to the balance.")
                    % {"n": entry.codes, "total": entry.amount},
                )
        return redirect(request.get_full_path())
    filterset = filters.RedPacketCodeFilter(request.GET, queryset=qs)
    table = paginate(request, tables.RedPacketCodeTable(filterset.qs))
    return render(
        request,
        "pickup/redpackets/list.html",
        {"filter": filterset, "table": table, "account": RedPacketAccount.load()},
    )


@permission_required(MANAGE)
def red_packet_claims(request):
    filterset = filters.RedPacketClaimFilter(request.GET, queryset=selectors.red_packet_claims())
    table = paginate(request, tables.RedPacketClaimTable(filterset.qs, user=request.user))
    return render(request, "pickup/redpackets/claims.html", {"filter": filterset, "table": table})
