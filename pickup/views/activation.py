"""提货卡激活: the store activates the cards it sells (by serial range, or their codes) and
deactivates them when a sale is reversed; the batches sold this way with their counts."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from couponhub.core.errors import Refused
from couponhub.core.permissions import permission_required
from couponhub.core.stores import current_store
from couponhub.core.views import paginate
from pickup import selectors, services, tables

PERM = "pickup.activate_cards"


class ActivationForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("action"),
        choices=[
            ("activate", gettext_lazy("activate (the cards were sold)")),
            ("deactivate", gettext_lazy("deactivate (the sale was reversed)")),
        ],
    )
    serial_from = forms.IntegerField(label=gettext_lazy("serial from"), min_value=0, required=False)
    serial_to = forms.IntegerField(label=gettext_lazy("serial to"), min_value=0, required=False)
    codes = forms.CharField(
        label=gettext_lazy("or card numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One card number a line, as scanned."),
    )
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200, required=False)

    def clean_codes(self):
        return [c for c in self.cleaned_data["codes"].split() if c][:1000]


@permission_required(PERM)
def activation(request):
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        chosen = {"serial_from": d["serial_from"], "serial_to": d["serial_to"], "codes": d["codes"]}
        store = current_store(request)
        try:
            if d["action"] == "activate":
                n = services.activate_cards(actor=request.user, store=store, **chosen)
                messages.success(request, _("%(n)s cards activated.") % {"n": n})
            else:
                n = services.deactivate_cards(
                    actor=request.user, store=store, reason=d["reason"], **chosen
                )
                messages.success(request, _("%(n)s cards deactivated.") % {"n": n})
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("pickup:activation")
    table = paginate(request, tables.ActivationBatchTable(selectors.activation_batches()))
    return render(request, "pickup/activation.html", {"form": form, "table": table})
