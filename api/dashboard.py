"""Home-page panel of the administrator: the API clients and their last calls."""

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api.models import ApiClient, ApiNonce
from couponhub.core.panels import Panel, PanelData
from redemption.models import Redemption


def _clients(request) -> PanelData:
    clients = list(ApiClient.objects.filter(is_active=True).select_related("store")[:10])
    ids = [c.pk for c in clients]
    # nonces live ten minutes: a call within them shows its time
    signed = dict(
        ApiNonce.objects.filter(client_id__in=ids)
        .values_list("client_id")
        .annotate(at=Max("created_at"))
        .order_by()
    )
    # the client's newest redemption, walking its store's (store, -created_at) index backwards
    redeemed = {
        c.pk: Redemption.objects.filter(store_id=c.store_id, api_client=c)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
        for c in clients
    }

    def when(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"

    return PanelData(
        columns=[_("API client"), _("store"), _("last signed call"), _("last redemption")],
        rows=[
            [
                c.name,
                c.store.name,
                when(signed.get(c.pk)) if c.pk in signed else _("none in 10 minutes"),
                when(redeemed.get(c.pk)),
            ]
            for c in clients
        ],
        link=(_("API clients"), reverse("api:clients")),
    )


PANELS = [Panel("api.clients", gettext_lazy("API clients"), ("admin",), _clients, 85)]
