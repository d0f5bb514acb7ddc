import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from coupons import services as coupon_services
from coupons.models import Coupon
from promocodes.models import PromoCodeUse
from reports import facts
from reports.models import FactRun, PromoDailyFact, RedemptionDailyFact, UValueCouponFact
from reports.tasks import build_nightly_facts_task
from tests.promocodes.factories import PromoCodeFactory
from tests.reports.factories import World, exchanged, redeem

pytestmark = pytest.mark.django_db
Status = Coupon.Status
DAY = datetime.timedelta(days=1)


@pytest.fixture
def world():
    return World()


def _seed(world):
    """Coupons of every kind of history, all of it before today 00:00, plus some of today's."""
    now = timezone.now()
    yesterday = now - DAY
    w = world
    c = {
        "unused": exchanged(w.member, w.campaign),
        "used": redeem(exchanged(w.member, w.campaign7), w.store2, yesterday),
        "used_elsewhere": redeem(exchanged(w.member2, w.campaign), w.store, yesterday),
        "frozen": coupon_services.freeze_coupon(actor=None, coupon=exchanged(w.member, w.campaign)),
        "voided": exchanged(w.member2, w.campaign7),
        "expired": exchanged(w.member, w.campaign, obtained_at=now - 40 * DAY),
    }
    Coupon.objects.filter(pk=c["voided"].pk).update(status=Status.VOIDED, voided_at=yesterday)
    Coupon.objects.filter(pk=c["expired"].pk).update(
        valid_from=now - 40 * DAY, valid_to=now - 3 * DAY
    )
    # not U-value: never in the fact table
    ordinary = coupon_services.claim_coupon(actor=None, rule=w.ordinary, member=w.member)
    Coupon.objects.filter(pk=ordinary.pk).update(obtained_at=yesterday)
    redeem(ordinary, w.store, yesterday)
    # obtained today: not yet in the facts
    c["today"] = exchanged(w.member, w.campaign, obtained_at=now)
    return {k: Coupon.objects.get(pk=v.pk) for k, v in c.items()}


def _expected(coupon: Coupon) -> dict:
    """The fact of a coupon read straight from the source models."""
    used = coupon.status == Status.USED
    scope = coupon.used_store if used else coupon.member.registration_store
    return {
        "issue_date": timezone.localdate(coupon.obtained_at),
        "campaign_name": coupon.campaign.name,
        "campaign_code": coupon.campaign.code,
        "rule_code": coupon.rule.code,
        "coupon_name": coupon.rule.name,
        "description": coupon.rule.description,
        "min_order_amount": coupon.rule.min_order_amount,
        "benefit": coupon.rule.benefit,
        "face_value": coupon.rule.face_value,
        "value_label": coupon.rule.value_label(),
        "u_value_paid": coupon.u_value_paid,
        "u_value_yuan": Decimal(coupon.u_value_paid) / 100,
        "coupon_code": coupon.code,
        "member_card": coupon.member.card_no,
        "member_phone": coupon.member.phone,
        "status": coupon.effective_status(facts.end_of_yesterday()),
        "obtained_at": coupon.obtained_at,
        "used_at": coupon.used_at,
        "used_store_name": f"{coupon.used_store.code}-{coupon.used_store.name}" if used else "",
        "org_path": scope.path,
    }


def _table():
    return list(UValueCouponFact.objects.order_by("coupon_id").values())


def test_fact_table_matches_the_source_row_by_row(world):
    coupons = _seed(world)

    run = facts.build_facts()

    assert run.status == FactRun.Status.SUCCEEDED and run.since is None
    stored = {f.coupon_id: f for f in UValueCouponFact.objects.all()}
    expected_ids = {c.pk for k, c in coupons.items() if k != "today"}
    assert set(stored) == expected_ids  # not the ordinary coupon, not today's exchange
    for coupon in Coupon.objects.filter(pk__in=expected_ids).select_related(
        "rule", "campaign", "member__registration_store", "used_store"
    ):
        fact = stored[coupon.pk]
        for field, value in _expected(coupon).items():
            assert getattr(fact, field) == value, (coupon.code, field)
    assert stored[coupons["expired"].pk].status == Status.EXPIRED
    assert stored[coupons["frozen"].pk].status == Status.FROZEN
    assert stored[coupons["used"].pk].used_store_id == world.store2.pk
    assert stored[coupons["used"].pk].value_label == "¥35.00"
    assert stored[coupons["unused"].pk].value_label == "煎药费1付"
    assert stored[coupons["unused"].pk].u_value_yuan == Decimal("20.00")


def test_running_twice_changes_nothing(world):
    _seed(world)
    first = facts.build_facts()
    before = _table()

    second = facts.build_facts()
    backfill = facts.build_facts(
        since=facts.end_of_yesterday() - 60 * DAY, until=facts.end_of_yesterday(), backfill=True
    )

    assert first.inserted == len(before) > 0
    assert (second.candidates, second.inserted, second.updated, second.deleted) == (0, 0, 0, 0)
    assert backfill.candidates >= len(before)
    assert (backfill.inserted, backfill.updated, backfill.deleted) == (0, 0, 0)
    assert _table() == before
    assert list(RedemptionDailyFact.objects.values()) == list(RedemptionDailyFact.objects.values())


def test_nightly_run_picks_up_only_what_changed_since_the_watermark(world):
    coupons = _seed(world)
    facts.build_facts()
    unchanged = UValueCouponFact.objects.get(coupon_id=coupons["voided"].pk).refreshed_at
    # today: the unused coupon is redeemed, the frozen one unfrozen (audited), the rule renamed
    now = timezone.now()
    redeem(coupons["unused"], world.store3, now)
    coupon_services.unfreeze_coupon(actor=None, coupon=coupons["frozen"])

    # before tomorrow's run the report still shows yesterday's state
    assert UValueCouponFact.objects.get(coupon_id=coupons["unused"].pk).status == Status.UNUSED

    run = facts.build_facts(now=now + DAY)

    assert run.since == facts.end_of_yesterday() and run.until == facts.end_of_yesterday(now + DAY)
    # read: every coupon an audit entry of today names (the seeding's own entries are dated
    # today too); written: the redeemed, the unfrozen and today's exchange, nothing else
    assert (run.inserted, run.updated) == (1, 2)
    fact = UValueCouponFact.objects.get(coupon_id=coupons["unused"].pk)
    assert fact.status == Status.USED and fact.used_at == now
    assert fact.org_path == world.store3.path
    assert UValueCouponFact.objects.get(coupon_id=coupons["frozen"].pk).status == Status.UNUSED
    assert UValueCouponFact.objects.get(coupon_id=coupons["today"].pk)
    assert UValueCouponFact.objects.get(coupon_id=coupons["voided"].pk).refreshed_at == unchanged
    day = RedemptionDailyFact.objects.get(day=timezone.localdate(now), store_id=world.store3.pk)
    assert day.count == 1 and day.rule_id == world.rule.pk


def test_a_coupon_that_expires_overnight_is_refreshed(world):
    coupons = _seed(world)
    facts.build_facts()
    now = timezone.now()
    Coupon.objects.filter(pk=coupons["unused"].pk).update(valid_to=now)

    facts.build_facts(now=now + DAY)

    assert UValueCouponFact.objects.get(coupon_id=coupons["unused"].pk).status == Status.EXPIRED


def test_redemption_daily_facts_count_every_kind_of_coupon(world):
    _seed(world)

    facts.build_facts()

    yesterday = timezone.localdate() - DAY
    rows = {(r.store_id, r.rule_code): r for r in RedemptionDailyFact.objects.filter(day=yesterday)}
    assert rows[(world.store2.pk, world.rule7.code)].count == 1
    assert rows[(world.store2.pk, world.rule7.code)].face_value == Decimal("35.00")
    assert rows[(world.store.pk, world.rule.code)].count == 1
    assert rows[(world.store.pk, world.ordinary.code)].count == 1
    assert len(rows) == 3


def test_command_backfills_a_range_and_the_task_runs_the_nightly_build(world):
    _seed(world)
    start = timezone.localdate() - 2 * DAY

    call_command("build_report_facts", "--from", start.isoformat(), "--to", start.isoformat())
    run = FactRun.objects.get()
    assert run.is_backfill and run.since == facts.start_of_day(start)
    assert not UValueCouponFact.objects.exists()  # nothing happened that day

    pk = build_nightly_facts_task.delay().get()
    assert FactRun.objects.get(pk=pk).since == facts.start_of_day(start + DAY)
    assert UValueCouponFact.objects.count() == 5  # the 40-day-old coupon is caught by --full
    call_command("build_report_facts", "--full")
    assert UValueCouponFact.objects.count() == 6


def test_a_failed_run_is_logged_and_does_not_move_the_watermark(world, monkeypatch):
    _seed(world)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(facts, "rebuild_redemption_days", boom)
    with pytest.raises(RuntimeError):
        facts.build_facts()

    run = FactRun.objects.get()
    assert run.status == FactRun.Status.FAILED and "disk full" in run.error
    assert facts.watermark() is None and not UValueCouponFact.objects.exists()


def test_redemption_order_and_return_flow_into_the_facts(world):
    from redemption import services as redemption_services
    from redemption.models import Redemption, RedemptionLine
    from tests.factories import user_with_role

    coupon = exchanged(world.member, world.campaign)
    clerk = user_with_role("clerk", world.store)
    redemption = redemption_services.redeem_coupons(
        store=world.store,
        coupon_ids=[coupon.pk],
        app="灵玑云",
        method=Redemption.Method.choices[0][0],
        actor=clerk,
        order_no="19241:194501",
    )
    now = timezone.now()
    # tonight (as if it were tomorrow): redeemed, with its order number
    facts.build_facts(now=now + DAY)
    fact = UValueCouponFact.objects.get(coupon_id=coupon.pk)
    assert fact.status == Status.USED and fact.order_no == "19241:194501"
    day = timezone.localdate(now)
    assert RedemptionDailyFact.objects.get(day=day, store_id=world.store.pk).count == 1

    # the day after: the coupon is returned (used_at cleared) and the next run catches it
    line = RedemptionLine.objects.get(redemption=redemption)
    redemption_services.return_redemption_line(line=line, actor=clerk)
    RedemptionLine.objects.filter(pk=line.pk).update(returned_at=now + DAY)
    run = facts.build_facts(now=now + 2 * DAY)

    fact.refresh_from_db()
    assert fact.status == Status.UNUSED and fact.order_no == "" and fact.used_at is None
    assert run.updated >= 1
    assert not RedemptionDailyFact.objects.filter(day=day, store_id=world.store.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_builds_at_once_take_turns_and_write_the_facts_once():
    import threading

    from django.db import connection

    # given the data of a night, and a manual build started as the nightly one starts
    _seed(World())
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def build():
        try:
            barrier.wait()
            runs.append(facts.build_facts())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then both succeed one after the other: the first writes the facts, the second finds
    # nothing left in its window
    assert errors == []
    first, second = sorted(runs, key=lambda r: r.started_at)
    assert {r.status for r in runs} == {FactRun.Status.SUCCEEDED}
    assert first.inserted == UValueCouponFact.objects.count() > 0
    assert (second.inserted, second.updated, second.deleted) == (0, 0, 0)
    assert second.started_at >= first.finished_at


def _use(code, at, discount):
    return PromoCodeUse.objects.create(
        code=code,
        user_id="u1",
        order_no=f"PF{PromoCodeUse.objects.count() + 1}",
        client_key="pos",
        discount=Decimal(discount),
        eligible_amount=Decimal("100"),
        used_at=at,
    )


def test_promo_code_uses_are_summed_per_day_and_channel_until_cancelled():
    web, app = PromoCodeFactory(), PromoCodeFactory()
    now = timezone.now()
    two_days_ago, yesterday = now - 2 * DAY, now - DAY
    _use(web, two_days_ago, "5.00")
    _use(web, two_days_ago, "7.50")
    cancelled_later = _use(app, yesterday, "3.00")
    gone = _use(app, yesterday, "9.00")
    PromoCodeUse.objects.filter(pk=gone.pk).update(cancelled_at=yesterday)
    _use(web, now, "1.00")  # today: not yet in the facts

    facts.build_facts()

    def table():
        return sorted(PromoDailyFact.objects.values_list("day", "channel_name", "uses", "discount"))

    web_channel, app_channel = web.application.channel.name, app.application.channel.name
    assert table() == [
        (timezone.localdate(two_days_ago), web_channel, 2, Decimal("12.50")),
        (timezone.localdate(yesterday), app_channel, 1, Decimal("3.00")),
    ]
    # cancelled today: yesterday's row loses it at the next night's build, today's use comes in
    PromoCodeUse.objects.filter(pk=cancelled_later.pk).update(cancelled_at=now)
    facts.build_facts(now=now + DAY)
    assert table() == [
        (timezone.localdate(two_days_ago), web_channel, 2, Decimal("12.50")),
        (timezone.localdate(now), web_channel, 1, Decimal("1.00")),
    ]
