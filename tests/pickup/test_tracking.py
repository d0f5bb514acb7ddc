"""已完成 when the consumer signs for the parcel: the courier-tracking backends (the recording one
and 快递100 against a local stub server) and the beat task that completes signed orders."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from couponhub.core.models import AuditEntry
from pickup import services, tracking
from pickup.models import PickupOrder, PickupSettings
from pickup.tasks import complete_shipped_orders_task, track_shipped_orders_task
from tests.pickup.factories import CourierFactory, PickupOrderFactory
from tests.pickup.stubs import Kuaidi100Stub

CUSTOMER, KEY = "A1B2C3D4E5F6", "kd100-test-key"
CHINA = dt.timezone(dt.timedelta(hours=8))
SIGNED_EVENTS = [
    {
        "time": "2026-11-20 14:05:11",
        "ftime": "2026-11-20 14:05:11",
        "context": "已签收，签收人：本人",
    },
    {"time": "2026-11-20 08:01:00", "ftime": "2026-11-20 08:01:00", "context": "派件中"},
]


@pytest.fixture
def kuaidi100():
    with Kuaidi100Stub(CUSTOMER, KEY) as stub:
        yield stub


def backend_for(stub, key=KEY):
    return tracking.Kuaidi100Backend(
        customer=CUSTOMER, key=key, endpoint=f"{stub.url}/poll/query.do", timeout=3, proxies={}
    )


@pytest.fixture
def use_kuaidi100(settings, kuaidi100):
    settings.PICKUP_TRACKING_BACKEND = "pickup.tracking.Kuaidi100Backend"
    settings.PICKUP_TRACKING_OPTIONS = {
        "customer": CUSTOMER,
        "key": KEY,
        "endpoint": f"{kuaidi100.url}/poll/query.do",
        "timeout": 3,
        "proxies": {},
    }
    return kuaidi100


@pytest.fixture(autouse=True)
def _clear_recording():
    tracking.RecordingBackend.clear()
    yield
    tracking.RecordingBackend.clear()


def shipped(tracking_no: str, courier_code: str = "SF", **kwargs) -> PickupOrder:
    courier = CourierFactory(code=courier_code, name=f"快递{courier_code}")
    return PickupOrderFactory(
        status="shipped",
        courier=courier,
        tracking_no=tracking_no,
        shipped_at=timezone.now() - dt.timedelta(days=2),
        **kwargs,
    )


# --- the 快递100 adapter ----------------------------------------------------------


def test_kuaidi100_reports_a_signed_parcel_with_its_signing_time(kuaidi100):
    kuaidi100.parcels["SF1400213370566"] = ("3", SIGNED_EVENTS)
    result = backend_for(kuaidi100).query(
        courier_code="SF", tracking_no="SF1400213370566", phone="13912345678"
    )
    assert result == tracking.TrackingResult(
        "signed", "已签收，签收人：本人", dt.datetime(2026, 11, 20, 14, 5, 11, tzinfo=CHINA)
    )
    # the standard code became 快递100's company code, the phone went along (顺丰 needs it)
    assert kuaidi100.requests == [
        {
            "com": "shunfeng",
            "num": "SF1400213370566",
            "phone": "13912345678",
            "resultv2": "0",
            "show": "0",
            "order": "desc",
        }
    ]


@pytest.mark.parametrize(
    "state,expected",
    [("0", "in_transit"), ("5", "in_transit"), ("4", "problem"), ("14", "problem")],
)
def test_kuaidi100_states_other_than_signed(kuaidi100, state, expected):
    kuaidi100.parcels["YT123456"] = (state, [{"time": "2026-11-20 08:01:00", "context": "运输中"}])
    result = backend_for(kuaidi100).query(courier_code="YTO", tracking_no="YT123456")
    assert (result.state, result.detail, result.signed_at) == (expected, "运输中", None)
    assert kuaidi100.requests[-1]["com"] == "yuantong"


def test_kuaidi100_refusals_and_network_trouble_are_errors_in_chinese(kuaidi100):
    result = backend_for(kuaidi100).query(courier_code="ZTO", tracking_no="NOSUCH1")
    assert result == tracking.TrackingResult(
        "error", "快递100查询失败：查询无结果，请隔段时间再查（500）"
    )
    wrong_key = backend_for(kuaidi100, key="not-the-key").query(courier_code="SF", tracking_no="X1")
    assert wrong_key.state == "error" and "验证签名失败" in wrong_key.detail
    port = kuaidi100.server.server_address[1]
    kuaidi100.server.shutdown()
    kuaidi100.server.server_close()
    down = tracking.Kuaidi100Backend(
        customer=CUSTOMER, key=KEY, endpoint=f"http://127.0.0.1:{port}/poll/query.do", proxies={}
    ).query(courier_code="SF", tracking_no="X1")
    assert down.state == "error" and down.detail.startswith("无法连接快递100")


def test_kuaidi100_needs_its_credentials():
    with pytest.raises(ValueError, match="快递100配置不完整"):
        tracking.Kuaidi100Backend(customer="", key=KEY)


# --- the beat task ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_beat_task_completes_signed_orders_and_keeps_the_others_shipped(use_kuaidi100):
    # given three shipped orders: one signed for, one on the way, one the provider cannot find
    use_kuaidi100.parcels["SF1000000001"] = ("3", SIGNED_EVENTS)
    use_kuaidi100.parcels["SF1000000002"] = (
        "0",
        [{"time": "2026-11-21 09:00:00", "context": "运输中"}],
    )
    signed, moving, unknown = (
        shipped("SF1000000001"),
        shipped("SF1000000002", courier_code="YTO"),
        shipped("SF1000000003", courier_code="ZTO"),
    )
    pending = PickupOrderFactory()
    # when the beat task runs
    counts = track_shipped_orders_task()
    # then the signed one is completed at its signing time, with an audit entry saying why
    assert counts == {"signed": 1, "in_transit": 1, "error": 1}
    signed.refresh_from_db(), moving.refresh_from_db(), unknown.refresh_from_db()
    assert signed.status == "completed" and signed.tracking_state == "signed"
    assert (
        signed.completed_at
        == signed.signed_at
        == dt.datetime(2026, 11, 20, 14, 5, 11, tzinfo=CHINA)
    )
    entry = AuditEntry.objects.get(action="pickup.order.complete", object_id=str(signed.pk))
    assert entry.note == "快递签收后自动完成（2026-11-20 14:05签收）" and entry.actor is None
    assert (moving.status, moving.tracking_state, moving.tracking_detail) == (
        "shipped",
        "in_transit",
        "运输中",
    )
    assert unknown.status == "shipped" and unknown.tracking_state == "error"
    assert "查询无结果" in unknown.tracking_detail
    assert [r["com"] for r in use_kuaidi100.requests] == ["shunfeng", "yuantong", "zhongtong"]
    pending.refresh_from_db()
    assert pending.status == "pending" and pending.tracking_checked_at is None
    # and a second run within two hours asks nothing again
    assert track_shipped_orders_task() == {}


@pytest.mark.django_db
def test_orders_are_asked_again_after_two_hours_oldest_first():
    now = timezone.now()
    fresh = shipped("YT0000001", tracking_checked_at=now - dt.timedelta(minutes=30))
    stale = shipped(
        "YT0000002", courier_code="YTO", tracking_checked_at=now - dt.timedelta(hours=3)
    )
    never = shipped("YT0000003", courier_code="ZTO")
    no_number = shipped("", courier_code="STO")
    deleted = shipped("YT0000004", courier_code="YD", deleted_at=now)
    due = list(services.orders_to_track(now))
    assert due == [never, stale]
    assert fresh not in due and no_number not in due and deleted not in due


@pytest.mark.django_db
def test_the_recording_backend_of_development_records_and_completes_what_it_is_told(
    op_client, operator
):
    order = shipped("JD0000000001", courier_code="JD")
    assert track_shipped_orders_task() == {"in_transit": 1}
    assert tracking.RecordingBackend.queries[-1]["tracking_no"] == "JD0000000001"
    order.refresh_from_db()
    assert order.status == "shipped" and order.tracking_state == "in_transit"
    # an order completed by hand meanwhile stays completed when the parcel is reported signed
    services.complete_order(actor=operator, order=order)
    tracking.RecordingBackend.parcels["JD0000000001"] = tracking.TrackingResult("signed", "已签收")
    order = services.record_tracking(
        order=order, result=tracking.TrackingResult("signed", "已签收")
    )
    assert order.status == "completed" and order.tracking_state == "signed"
    assert AuditEntry.objects.filter(action="pickup.order.complete").count() == 1
    page = op_client.get(reverse("pickup:order_detail", args=[order.pk])).content.decode()
    assert "已签收" in page


@pytest.mark.django_db
def test_the_n_days_rule_stays_the_fallback_for_parcels_never_reported_signed():
    settings_obj = PickupSettings.load()
    settings_obj.auto_complete_days = 7
    settings_obj.save()
    old = shipped("ZT0000001", courier_code="ZTO")
    PickupOrder.objects.filter(pk=old.pk).update(shipped_at=timezone.now() - dt.timedelta(days=8))
    assert track_shipped_orders_task() == {"in_transit": 1}
    assert complete_shipped_orders_task() == 1
    old.refresh_from_db()
    assert old.status == "completed" and old.signed_at is None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"status":"200","state":"0","data":[{"context":"\\u5df2\\u0000\\u63fd","time":"x"}]}',
        b'{"status":"200","state":"0","data":[{"context":"a\\ud800b"}]}',
        b'{"status":"200","state":"0","data":5}',
        b'{"status":"500","message":"\\u0000\\udfff"}',
    ],
)
@pytest.mark.django_db
def test_a_provider_answer_postgresql_cannot_store_is_kept_without_it(raw):
    # a NUL or a lone surrogate in 快递100's text, or data that is not a list, used to stop the
    # beat task at this order (DataError or TypeError) — every run, so no order was tracked again
    order = shipped("SF0000000001")
    result = tracking.Kuaidi100Backend.interpret(200, raw)
    order = services.record_tracking(order=order, result=result)
    assert "\x00" not in order.tracking_detail
    order.tracking_detail.encode("utf-8")
