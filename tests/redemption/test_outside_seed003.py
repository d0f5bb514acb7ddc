"""Seed 003 gaps (issue 16): activities editable (the manual's fix for 店不能使用该票券 is to add
the store), 退券 at the till within the day and once, outside coupons in the member's wallet, a
消费号 typed without its leading J."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry, RoleAssignment
from redemption import outside
from redemption.models import OutsideCoupon
from tests.factories import StoreFactory, user_with_role
from tests.redemption.factories import OutsideCouponFactory, OutsideProductMappingFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role


@pytest.fixture
def clerk(client, store):
    user = user_with_role(Role.CLERK, store, username="lina_pan")
    client.force_login(user)
    return user


def coupon_for(store, **kw):
    mapping = OutsideProductMappingFactory(activity__stores=[store], activity__org=store.parent)
    return OutsideCouponFactory(mapping=mapping, **kw)


def test_a_consumption_number_typed_without_its_j_is_found(store):
    coupon = coupon_for(store, code="J880123")
    used = outside.redeem_outside_coupon(code="880123", store=store, items=None, operator="x")
    assert used.pk == coupon.pk and used.status == "used"
    assert outside.find_outside_coupon("j880123").pk == coupon.pk
    assert outside.find_outside_coupon("99999") is None


def test_an_activity_is_edited_to_add_the_store_the_till_refused(client, store):
    other = StoreFactory(parent=store.parent)
    coupon = coupon_for(store, code="J770001")
    with pytest.raises(Refused) as exc:
        outside.redeem_outside_coupon(code=coupon.code, store=other, items=None, operator="x")
    assert exc.value.message == f"{other.name}不能使用该票券,票券【消费号J770001】不能使用!"
    activity = coupon.activity
    operator = user_with_role(Role.OPERATOR, activity.org)
    client.force_login(operator)
    listing = client.get(reverse("redemption:outside_activities")).content.decode()
    edit_url = reverse("redemption:outside_activity_edit", args=[activity.pk])
    assert edit_url in listing
    assert client.get(edit_url).status_code == 200
    response = client.post(
        edit_url,
        {
            "org": activity.org.pk,
            "name": activity.name,
            "coupon_type": activity.coupon_type,
            "face_value": "100.00",
            "min_order_amount": "0",
            "per_order_limit": "1",
            "stores": [store.pk, other.pk],
            "valid_from": activity.valid_from.isoformat(),
            "valid_to": activity.valid_to.isoformat(),
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert AuditEntry.objects.filter(action="redemption.outside_activity_update").exists()
    used = outside.redeem_outside_coupon(code=coupon.code, store=other, items=None, operator="x")
    assert used.used_store == other


def test_editing_another_orgs_activity_is_404(client, store):
    coupon = coupon_for(store)
    client.force_login(user_with_role(Role.OPERATOR, StoreFactory().parent or StoreFactory()))
    url = reverse("redemption:outside_activity_edit", args=[coupon.activity.pk])
    assert client.get(url).status_code in (403, 404)


def test_a_redeemed_outside_coupon_is_returned_at_the_till_the_same_day_once(client, clerk, store):
    coupon = coupon_for(store, code="J660001")
    outside.redeem_outside_coupon(code=coupon.code, store=store, items=None, operator="lina_pan")
    page = client.get(reverse("redemption:outside_till")).content.decode()
    url = reverse("redemption:outside_return", args=[coupon.pk])
    assert url in page
    done = client.post(url, follow=True).content.decode()
    assert "票券【消费号J660001】已退券，可再次使用" in done
    coupon.refresh_from_db()
    assert coupon.status == "unused" and coupon.used_store == store and coupon.returned_at
    # it can be used again, but not returned a second time
    outside.redeem_outside_coupon(code=coupon.code, store=store, items=None, operator="lina_pan")
    again = client.post(url, follow=True).content.decode()
    assert "票券【消费号J660001】已退过一次，不能再退" in again
    assert OutsideCoupon.objects.get(pk=coupon.pk).status == "used"


def test_yesterdays_redemption_is_not_returned(store):
    coupon = coupon_for(store, code="J660002")
    outside.redeem_outside_coupon(code=coupon.code, store=store, items=None, operator="x")
    OutsideCoupon.objects.filter(pk=coupon.pk).update(
        used_at=timezone.now() - datetime.timedelta(days=1)
    )
    with pytest.raises(Refused) as exc:
        outside.return_outside_coupon(coupon=coupon, store=store, operator="x")
    assert exc.value.message == "票券【消费号J660002】只能在核销当天退券"


def test_another_store_cannot_return_it(store):
    coupon = coupon_for(store, code="J660003")
    outside.redeem_outside_coupon(code=coupon.code, store=store, items=None, operator="x")
    with pytest.raises(Refused) as exc:
        outside.return_outside_coupon(coupon=coupon, store=StoreFactory(), operator="x")
    assert "不是本店核销的" in exc.value.message


def test_the_members_outside_coupons_show_in_the_wallet(client, clerk, store, member):
    mine = coupon_for(store, code="J550001", phone=member.phone)
    coupon_for(store, code="J550002", phone="18000000000")
    page = client.get(reverse("redemption:lookup"), {"q": member.phone}).content.decode()
    assert 'id="outside-wallet"' in page and "外部票券(1)" in page
    assert mine.code in page and "J550002" not in page
