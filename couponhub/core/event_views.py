"""The admin's pages of the outbound events: subscribers and the delivery log with resend."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from couponhub.core import events, selectors
from couponhub.core.errors import Refused
from couponhub.core.models import EventDelivery, EventSubscriber
from couponhub.core.permissions import permission_required
from couponhub.core.tables import EventDeliveryTable
from couponhub.core.views import paginate

PERM = "core.manage_events"


class SubscriberForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100)
    url = forms.CharField(
        label=gettext_lazy("receiving URL"),
        max_length=500,
        help_text=gettext_lazy("An HTTPS address; each event is POSTed to it as signed JSON."),
    )
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("event types"),
        choices=list(events.EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=gettext_lazy("active"), required=False, initial=True)


def _add_form(data=None) -> SubscriberForm:
    """A new subscriber is active: the add form has no switch."""
    form = SubscriberForm(data)
    del form.fields["is_active"]
    return form


@permission_required(PERM)
def subscriber_list(request):
    form = _add_form(request.POST or None)
    new_secret = new_subscriber = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            new_subscriber, new_secret = events.create_subscriber(
                actor=request.user, name=d["name"], url=d["url"], event_types=d["event_types"]
            )
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Subscriber added. Copy the secret now: it is shown once."))
            form = _add_form()
    return render(
        request,
        "core/event_subscribers.html",
        {
            "form": form,
            "subscribers": selectors.event_subscribers(),
            "labels": events.EVENT_TYPES,
            "new_secret": new_secret,
            "new_subscriber": new_subscriber,
        },
    )


@permission_required(PERM)
def subscriber_edit(request, pk: int):
    subscriber = get_object_or_404(EventSubscriber, pk=pk)
    initial = {
        "name": subscriber.name,
        "url": subscriber.url,
        "event_types": subscriber.event_types,
        "is_active": subscriber.is_active,
    }
    form = SubscriberForm(request.POST or None, initial=initial)
    form.fields["name"].disabled = True
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            events.update_subscriber(
                actor=request.user,
                subscriber=subscriber,
                url=d["url"],
                event_types=d["event_types"],
                is_active=d["is_active"],
            )
        except Refused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Subscriber saved."))
            return redirect("core:event_subscribers")
    return render(
        request, "core/event_subscriber_edit.html", {"form": form, "subscriber": subscriber}
    )


@permission_required(PERM)
def delivery_list(request):
    table = paginate(request, EventDeliveryTable(selectors.event_deliveries(request.GET)))
    return render(
        request,
        "core/event_deliveries.html",
        {
            "table": table,
            "subscribers": selectors.event_subscribers(),
            "statuses": EventDelivery.Status.choices,
            "labels": events.EVENT_TYPES,
            "query": request.GET,
        },
    )


@permission_required(PERM)
def delivery_detail(request, pk: int):
    delivery = get_object_or_404(EventDelivery.objects.select_related("event", "subscriber"), pk=pk)
    return render(
        request,
        "core/event_delivery.html",
        {
            "delivery": delivery,
            "body": events.event_body(delivery.event).decode(),
            "label": events.EVENT_TYPES.get(delivery.event.type, delivery.event.type),
            "attempts": selectors.delivery_attempts(delivery),
        },
    )


@require_POST
@permission_required(PERM)
def delivery_resend(request, pk: int):
    delivery = get_object_or_404(EventDelivery.objects.select_related("subscriber"), pk=pk)
    events.resend_delivery(actor=request.user, delivery=delivery)
    messages.success(
        request, _("The event is being sent again to %(name)s.") % {"name": delivery.subscriber}
    )
    return redirect("core:event_delivery", pk=delivery.pk)
