from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api.models import ApiClient
from api.services import create_api_client, set_api_client_active
from couponhub.core.models import Org
from couponhub.core.permissions import get_scoped_or_404, permission_required, scoped, stores_for

PERM = "api.manage_clients"


class ApiClientForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100)
    store = forms.ModelChoiceField(label=gettext_lazy("store"), queryset=Org.objects.none())
    auto_return = forms.BooleanField(label=gettext_lazy("auto return"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores_for(user, PERM)


@permission_required(PERM)
def client_list(request):
    form = ApiClientForm(request.POST or None, user=request.user)
    if request.method == "POST" and "toggle" in request.POST:
        client = get_scoped_or_404(
            request.user, PERM, ApiClient.objects.all(), "store", pk=request.POST["toggle"]
        )
        set_api_client_active(actor=request.user, client=client, active=not client.is_active)
        return redirect("api:clients")
    new_secret = None
    if request.method == "POST" and form.is_valid():
        client, new_secret = create_api_client(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Client created. Copy the secret now: it is shown only once."))
        form = ApiClientForm(user=request.user)
    clients = scoped(request.user, PERM, ApiClient.objects.select_related("store"), "store")
    return render(
        request,
        "api/client_list.html",
        {
            "form": form,
            "clients": clients,
            "new_secret": new_secret,
            "new_client": new_secret and client,
        },
    )
