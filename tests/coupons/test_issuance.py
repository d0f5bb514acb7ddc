import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from couponhub.core.errors import Refused
from coupons import jobs as coupon_jobs
from coupons import services
from coupons.models import Coupon, CouponRule
from members import services as member_services
from tests.coupons.factories import CampaignFactory, CouponRuleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
Status = Coupon.Status


def test_claim_issues_a_coupon_with_validity_and_counts_it():
    rule = CouponRuleFactory(code_prefix="YH", numeric_length=6, start_value=5, total=3)
    member = MemberFactory()
    coupon = services.claim_coupon(actor=None, rule=rule, member=member)
    rule.refresh_from_db()
    assert coupon.code == "YH000005"
    assert coupon.status == Status.UNUSED and coupon.channel == Coupon.Channel.CLAIM
    assert coupon.member == member and coupon.obtained_at
    assert timezone.localtime(coupon.valid_to).date() == rule.valid_until
    assert rule.issued_count == 1


def test_claim_refused_when_all_are_out_and_per_member_limit():
    rule = CouponRuleFactory(total=2, per_member_limit=1)
    a, b, c = MemberFactory.create_batch(3)
    services.claim_coupon(actor=None, rule=rule, member=a)
    with pytest.raises(Refused, match="每人限领1张"):
        services.claim_coupon(actor=None, rule=rule, member=a)
    services.claim_coupon(actor=None, rule=rule, member=b)
    with pytest.raises(Refused, match="券已领完"):
        services.claim_coupon(actor=None, rule=rule, member=c)
    rule.refresh_from_db()
    assert rule.issued_count == 2 == Coupon.objects.filter(rule=rule).count()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": CouponRule.Status.IN_REVIEW}, "未审核"),
        ({"is_disabled": True}, "已禁用"),
        ({"is_invalidated": True}, "已失效"),
        ({"claim_deadline": datetime.date(2020, 1, 1)}, "最迟领取日期"),
        ({"sale_price": Decimal("9.90")}, "需购买"),
        ({"medium": CouponRule.Medium.PHYSICAL}, "实物券"),
    ],
)
def test_claim_refusals(changes, message):
    rule = CouponRuleFactory(**changes)
    with pytest.raises(Refused, match=message):
        services.claim_coupon(actor=None, rule=rule, member=MemberFactory())
    assert not Coupon.objects.exists()


def test_disabled_rule_keeps_coupons_already_out_usable():
    rule = CouponRuleFactory()
    coupon = services.claim_coupon(actor=None, rule=rule, member=MemberFactory())
    CouponRule.objects.filter(pk=rule.pk).update(is_disabled=True)
    coupon.refresh_from_db()
    assert coupon.is_usable_at(rule.creating_org)


def test_purchase_records_price_and_payment():
    rule = CouponRuleFactory(sale_price=Decimal("9.90"))
    coupon = services.purchase_coupon(
        actor=None, rule=rule, member=MemberFactory(), payment_method="wechat"
    )
    assert coupon.price_paid == Decimal("9.90") and coupon.payment_method == "wechat"
    assert coupon.channel == Coupon.Channel.PURCHASE


def test_u_value_exchange_deducts_in_the_same_transaction():
    campaign = CampaignFactory(
        rule=CouponRuleFactory(kind=CouponRule.Kind.U_VALUE_EXCHANGE, u_value_price=2000),
        u_value_price=1500,
    )
    member = MemberFactory()
    member_services.change_u_value(member=member, delta=2000, reason="赠送")
    coupon = services.exchange_coupon(actor=None, member=member, campaign=campaign)
    member.refresh_from_db()
    assert member.u_value == 500 and coupon.u_value_paid == 1500
    assert coupon.campaign == campaign
    # short of U-value: refused, and no coupon, no issued count, no ledger entry
    with pytest.raises(Refused, match="U享值不足"):
        services.exchange_coupon(actor=None, member=member, campaign=campaign)
    campaign.rule.refresh_from_db()
    assert campaign.rule.issued_count == 1 == Coupon.objects.count()
    assert member.u_value_entries.count() == 2


def test_transfer_only_when_transferable():
    a, b = MemberFactory.create_batch(2)
    plain = services.claim_coupon(actor=None, rule=CouponRuleFactory(), member=a)
    with pytest.raises(Refused, match="不可转赠"):
        services.transfer_coupon(actor=None, coupon=plain, from_member=a, to_member=b)
    gift = services.claim_coupon(actor=None, rule=CouponRuleFactory(transferable=True), member=a)
    services.transfer_coupon(actor=None, coupon=gift, from_member=a, to_member=b)
    assert gift.member == b and gift.transferred_from == a


def test_gift_to_members_is_all_or_nothing_on_total():
    rule = CouponRuleFactory(total=3)
    members = MemberFactory.create_batch(4)
    with pytest.raises(Refused, match="剩余可发3张"):
        services.gift_coupons(actor=None, rule=rule, member_ids=[m.pk for m in members])
    assert not Coupon.objects.exists()
    assert services.gift_coupons(actor=None, rule=rule, member_ids=[m.pk for m in members[:3]]) == 3
    rule.refresh_from_db()
    assert rule.issued_count == 3
    assert set(Coupon.objects.values_list("member_id", flat=True)) == {m.pk for m in members[:3]}


def test_gift_job_from_uploaded_list(tmp_path, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from couponhub.core.jobs import enqueue_job
    from couponhub.core.models import Job

    rule = CouponRuleFactory(total=10)
    a, b = MemberFactory.create_batch(2)
    name = default_storage.save(
        "gifts/list.csv", ContentFile(f"手机号\n{a.phone}\n{b.card_no}\n".encode())
    )
    job = enqueue_job(
        kind="coupons.gift", title="t", owner=None, params={"rule_id": rule.pk, "file": name}
    )
    from couponhub.core.jobs import run_job

    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.result == {"gifted": 2}
    assert Coupon.objects.filter(job=job).count() == 2


def test_gift_rows_unknown_members_are_reported():
    a = MemberFactory()
    rule = CouponRuleFactory(total=10)
    outcome = services.gift_coupons_to_list(
        actor=None, rule=rule, rows=[["会员"], [a.phone], ["13000000000"], [a.card_no]]
    )
    assert (outcome.gifted, outcome.error_count) == (0, 1)
    assert outcome.errors == [{"row": 3, "value": "13000000000", "error": "会员不存在"}]
    assert not Coupon.objects.exists()


# --- the streamed gift list -----------------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few rows, so a small list crosses many COPYs, cursor fetches and inserts."""
    from couponhub.core import staging

    monkeypatch.setattr(staging, "STAGE_CHUNK_ROWS", 4)
    monkeypatch.setattr(staging, "FETCH_ROWS", 3)
    monkeypatch.setattr(services.issuance, "GIFT_CHUNK", 5)


def _gift_job(rule, text: str):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from couponhub.core.models import Job

    name = default_storage.save("gifts/list.csv", ContentFile(text.encode()))
    return Job.objects.create(
        kind="coupons.gift", title="t", owner=None, params={"rule_id": rule.pk, "file": name}
    )


@pytest.mark.parametrize("code_mode", [CouponRule.CodeMode.SEQUENTIAL, CouponRule.CodeMode.RANDOM])
def test_a_gift_list_gives_one_coupon_a_member_in_the_lists_order(small_chunks, code_mode):
    from couponhub.core.jobs import run_job
    from couponhub.core.models import Job

    # given a list naming 12 members by phone, card number or member ID, some more than once
    rule = CouponRuleFactory(total=100, code_mode=code_mode)
    members = MemberFactory.create_batch(12)
    keys = [(m.phone, m.card_no, m.member_no)[i % 3] for i, m in enumerate(members)]
    keys[5:5] = [members[0].card_no, members[3].phone, members[0].member_no]
    job = _gift_job(rule, "会员\n" + "\n".join(keys) + "\n")
    run_job(job.pk)
    job.refresh_from_db()
    # then each member gets one coupon, numbered in the order the list first names them
    assert job.status == Job.Status.SUCCEEDED and job.result == {"gifted": 12}
    assert (job.done, job.total) == (12, 12)
    coupons = list(Coupon.objects.filter(job=job).order_by("number"))
    assert [c.member_id for c in coupons] == [m.pk for m in members]
    assert [c.number for c in coupons] == list(range(12))
    assert len({c.code for c in coupons}) == 12
    rule.refresh_from_db()
    assert rule.issued_count == 12
    # and a re-run after the commit gives nothing more
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
    run_job(job.pk)
    assert Coupon.objects.filter(rule=rule).count() == 12


def test_a_gift_list_with_unknown_members_gives_nothing_and_counts_them(small_chunks, monkeypatch):
    from couponhub.core.jobs import run_job
    from couponhub.core.models import Job

    monkeypatch.setattr(services.issuance, "GIFT_ERRORS_KEPT", 3)
    rule = CouponRuleFactory(total=100)
    known = MemberFactory()
    keys = [known.phone, *(f"1300000{i:04d}" for i in range(5)), known.card_no]
    job = _gift_job(rule, "\n".join(keys) + "\n")
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "名单中有5行无法识别会员，未发放任何券"
    assert job.result == {
        "errors": [
            {"row": n, "value": f"1300000{n - 2:04d}", "error": "会员不存在"} for n in (2, 3, 4)
        ]
    }
    assert not Coupon.objects.exists()
    rule.refresh_from_db()
    assert rule.issued_count == 0


def test_a_gift_list_over_the_rules_total_gives_nothing(small_chunks):
    from couponhub.core.jobs import run_job
    from couponhub.core.models import Job

    rule = CouponRuleFactory(total=5)
    members = MemberFactory.create_batch(6)
    job = _gift_job(rule, "\n".join(m.phone for m in members) + "\n")
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "剩余可发5张，不足6张" in job.error
    assert not Coupon.objects.exists()


def test_a_cancelled_gift_stops_and_gives_nothing(small_chunks):
    from couponhub.core.jobs import JobCancelled
    from couponhub.core.models import Job

    rule = CouponRuleFactory(total=100)
    members = MemberFactory.create_batch(6)
    job = _gift_job(rule, "\n".join(m.phone for m in members) + "\n")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED)  # while the worker runs it
    job.refresh_from_db()
    with pytest.raises(JobCancelled):
        coupon_jobs.gift(job)
    assert not Coupon.objects.exists()
    rule.refresh_from_db()
    assert rule.issued_count == 0


def _run_in_threads(n, target):
    barrier = threading.Barrier(n)
    results = []

    def worker(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Refused as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_claims_of_the_last_coupon_give_exactly_one():
    rule = CouponRuleFactory(total=5)
    rule.issued_count = 4
    rule.save(update_fields=["issued_count"])
    members = MemberFactory.create_batch(8)
    results = _run_in_threads(
        8, lambda i: services.claim_coupon(actor=None, rule=rule, member=members[i])
    )
    wins = [r for r in results if isinstance(r, Coupon)]
    assert len(wins) == 1
    assert all("券已领完" in str(r) for r in results if not isinstance(r, Coupon))
    rule.refresh_from_db()
    assert rule.issued_count == 5 and Coupon.objects.filter(rule=rule).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_claims_by_one_member_respect_the_limit():
    rule = CouponRuleFactory(total=100, per_member_limit=2)
    member = MemberFactory()
    results = _run_in_threads(
        8, lambda i: services.claim_coupon(actor=None, rule=rule, member=member)
    )
    assert len([r for r in results if isinstance(r, Coupon)]) == 2
    assert Coupon.objects.filter(rule=rule, member=member).count() == 2
    rule.refresh_from_db()
    assert rule.issued_count == 2


def test_an_oversized_gift_list_is_refused_where_it_arrives(client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from couponhub.core.models import Job, RoleAssignment
    from tests.factories import user_with_role

    rule = CouponRuleFactory(total=10)
    client.force_login(user_with_role(RoleAssignment.Role.OPERATOR, rule.creating_org))
    big = SimpleUploadedFile("list.csv", b"1" * (25 * 1024 * 1024))
    response = client.post(reverse("coupons:rule_gift", args=[rule.pk]), {"file": big})
    assert response.status_code == 200
    assert "文件超过20MB上限" in response.content.decode()
    assert not Job.objects.exists()
    stored = list(settings.MEDIA_ROOT.rglob("*")) if settings.MEDIA_ROOT.exists() else []
    assert not [p for p in stored if p.is_file()]
    wrong = SimpleUploadedFile("list.exe", b"MZ")
    response = client.post(reverse("coupons:rule_gift", args=[rule.pk]), {"file": wrong})
    assert "只支持.xlsx、.csv文件" in response.content.decode()


def test_a_gift_list_of_only_a_header_is_refused_and_a_long_value_is_echoed_short():
    from couponhub.core.jobs import run_job
    from couponhub.core.models import Job

    rule = CouponRuleFactory(total=10)
    job = _gift_job(rule, "会员\n\n")
    run_job(job.pk)
    job.refresh_from_db()
    # it used to succeed with nothing gifted
    assert job.status == Job.Status.FAILED and "名单中没有会员" in job.error
    job = _gift_job(rule, "会员\n" + "9" * 100_000 + "\n")
    run_job(job.pk)
    job.refresh_from_db()
    # the whole 100 000-character cell used to be kept in the job's result
    assert job.result["errors"] == [{"row": 2, "value": "9" * 20 + "…", "error": "会员不存在"}]
    assert not Coupon.objects.exists()
