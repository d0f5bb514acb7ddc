"""Physical coupons printed: a code range's card sheets, read back with their QR codes."""

import io

import pypdf
import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from couponhub.core.models import Job, RoleAssignment
from coupons.models import CouponRule
from coupons.services import start_generation
from tests.coupons.factories import CouponRuleFactory
from tests.factories import OrgFactory, user_with_role

pytestmark = pytest.mark.django_db

LAYOUT = {
    "card_width_mm": "85.5",
    "card_height_mm": "54",
    "sheet": "SRA3",
    "bleed_mm": "2",
    "crop_marks": "on",
    "sides": "single",
    "order": "interleaved",
    "notes": "满100元可用",
}


def test_a_code_range_of_a_physical_rule_prints_one_card_per_coupon(
    client, django_capture_on_commit_callbacks
):
    group = OrgFactory()
    operator = user_with_role(RoleAssignment.Role.OPERATOR, group)
    client.force_login(operator)
    rule = CouponRuleFactory(
        creating_org=group,
        medium=CouponRule.Medium.PHYSICAL,
        code_prefix="PR",
        numeric_length=5,
        total=12,
        name="十元代金券",
    )
    start_generation(actor=operator, rule=rule)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("coupons:rule_print", args=[rule.pk]),
            {"code_from": "PR00002", "code_to": "PR00008", **LAYOUT},
        )
    job = Job.objects.get(kind="coupons.print_cards")
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED, job.error
    data = b"".join(client.get(reverse("core:job_download", args=[job.pk])).streaming_content)
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "".join(p.extract_text() for p in reader.pages)
    assert [f"PR{i:05d}" in text for i in range(12)] == [2 <= i <= 8 for i in range(12)]
    assert text.count("十元代金券") == 7 and "满100元可用" in text
    assert "密码（刮开涂层）" not in text  # no password to hide
    qr = []
    for image in reader.pages[0].images:
        grey = image.image.convert("L")
        big = grey.resize((grey.width * 8, grey.height * 8), Image.NEAREST)
        qr += [b.text for b in zxingcpp.read_barcodes(big)]
    assert qr == [f"PR{i:05d}" for i in range(2, 9)]


def test_a_range_outside_the_rule_is_refused_and_clerks_cannot_print(client):
    group = OrgFactory()
    operator = user_with_role(RoleAssignment.Role.OPERATOR, group)
    rule = CouponRuleFactory(
        creating_org=group, medium=CouponRule.Medium.PHYSICAL, code_prefix="PX", total=3
    )
    start_generation(actor=operator, rule=rule)
    client.force_login(operator)
    response = client.post(
        reverse("coupons:rule_print", args=[rule.pk]),
        {"code_from": "NOPE", "code_to": "NOPE2", **LAYOUT},
    )
    assert "起始券码NOPE不属于该券规则" in response.content.decode()
    assert not Job.objects.exists()
    client.force_login(user_with_role(RoleAssignment.Role.CLERK, OrgFactory(parent=group)))
    assert client.get(reverse("coupons:rule_print", args=[rule.pk])).status_code == 403
