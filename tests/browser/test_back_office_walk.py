"""Issue #18's "how it will be checked", walked in the browser on the demo chain:

as admin, a new store and a new clerk set up from nothing; the clerk logs in with the temporary
password and must choose their own; as that clerk, a member opened, a coupon claimed and one
exchanged for U-value, the claimed coupon redeemed at the counter; the header search tried with
one of each kind of number, including numbers of another store (not found). Also the other way
to reset a password: a one-time link, used by a locked-out clerk. (Each role's dashboard:
test_dashboards.py.)"""

import re

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command

from couponhub.core.models import SmsMessage
from coupons.models import Coupon
from members.models import Member, MemberOrder
from pickup.models import PickupCode, PickupOrder
from redemption.models import OutsideCoupon, Redemption
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLERK_PASSWORD = "Sanlitun-390!"


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _search(page, text):
    page.fill("#header-search-q", text)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _not_found(page, text) -> bool:
    return f"没有找到您可以查看的“{text}”" in page.inner_text("main")


def _set_up_store_and_clerk(page, live_server) -> None:
    log_in(page, live_server, "admin")
    page.click("nav >> text=组织架构")
    page.click("text=新增组织")
    page.select_option("#id_kind", "store")
    page.fill("#id_name", "三里屯店")
    page.fill("#id_code", "390")
    page.select_option("#id_parent", label="　零售（R-RETAIL）")
    with page.expect_navigation():
        page.click("button:has-text('保存')")
    assert "已添加三里屯店" in page.inner_text(".messages")
    page.click("nav >> text=用户与角色")
    page.click("text=新增用户")
    page.fill("#id_username", "zhou_li")
    page.fill("#id_full_name", "周丽")
    page.fill("#id_phone", "13900000390")
    page.select_option("#id_role", "clerk")
    page.select_option("#id_org", label="　　三里屯店（390）")
    with page.expect_navigation():
        page.click("button:has-text('创建用户')")
    password = page.inner_text("#temporary-password").strip()
    screenshot(page, "walk-1-clerk-created")

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "zhou_li")
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/password/")
    page.fill("#id_old_password", password)
    page.fill("#id_new_password1", CLERK_PASSWORD)
    page.fill("#id_new_password2", CLERK_PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('修改密码')")
    page.wait_for_url(f"{live_server.url}/")
    assert "三里屯店-零售-390" in page.inner_text("header")
    screenshot(page, "walk-2-new-clerk-home")


def test_a_new_clerk_of_a_new_store_serves_a_member_and_searches(demo, page, live_server):
    _set_up_store_and_clerk(page, live_server)
    member = Member.objects.get(phone="17700000516")
    u_before = member.u_value

    # a member opened from the header search, by phone
    _search(page, "17700000516")
    assert "会员详情" in page.inner_text("h1") and "177****0516" in page.inner_text("#profile")
    screenshot(page, "walk-3-member")

    page.select_option("#claim-rule", label="全场9.5折券")
    with page.expect_navigation():
        page.click("#coupons form:has(#claim-rule) button")
    notice = page.inner_text(".messages")
    assert "已领券：全场9.5折券" in notice, notice
    claimed = re.search(r"券码(\w+)", notice).group(1)

    option = page.locator("#exchange-rule option", has_text="1付药-指定门店可用").inner_text()
    assert f"2000U · 兑换后余额{u_before - 2000}U" in option
    page.select_option("#exchange-rule", label=option)
    page.click("#coupons form:has(#exchange-rule) button")
    with page.expect_navigation():
        page.locator(".popconfirm").get_by_role("button", name="确定").click()
    assert f"扣除2000U，U享值余额{u_before - 2000}U" in page.inner_text(".messages")
    screenshot(page, "walk-4-claimed-and-exchanged")

    with page.expect_navigation():
        page.click("text=到会员信息查询核销")
    page.wait_for_selector("#redeem-select")
    page.locator(f".coupon-check[aria-label$='{claimed}']").check()
    page.click("#redeem-submit")
    page.wait_for_selector("#sms-code")
    message = SmsMessage.objects.filter(purpose="redeem_code", phone="17700000516").first()
    page.fill("#sms-code", re.search(r"验证码为(\d{6})", message.text).group(1))
    page.keyboard.press("Enter")
    page.wait_for_selector("#link-form")
    page.click("#skip-link")
    page.wait_for_selector("#receipt")
    screenshot(page, "walk-5-redeemed")
    assert Coupon.objects.get(code=claimed).status == "used"
    mine = Redemption.objects.get(store__code="390")

    # the clerk's search: card number, the claimed coupon's code, the redemption just made
    _search(page, member.card_no)
    assert "会员详情" in page.inner_text("h1")
    _search(page, claimed)
    assert f"/redemption/members/{member.pk}/" in page.url and claimed in page.inner_text(
        "#coupons"
    )
    _search(page, mine.redemption_no)
    assert claimed in page.inner_text("#receipt")
    # numbers of other stores: as absent as numbers that do not exist
    theirs = Redemption.objects.exclude(store__code="390").first()
    foreign_order = MemberOrder.objects.filter(store__code="501").first()
    store_order = PickupOrder.objects.filter(
        kind="store", deleted_at__isnull=True
    ).first()  # store 380's
    for number in (theirs.redemption_no, foreign_order.order_no, "J880001", store_order.order_no):
        _search(page, number)
        assert _not_found(page, number), number
    screenshot(page, "walk-6-clerk-search-other-store")


def test_the_header_search_finds_each_kind_of_number(demo, page, live_server):
    recharge = Coupon.objects.exclude(recharge_no__isnull=True).exclude(recharge_no="").first()
    pickup_code = PickupCode.objects.first()
    pickup_order = PickupOrder.objects.filter(kind="online", deleted_at__isnull=True).first()
    member_order = MemberOrder.objects.filter(store__code="380", member__isnull=False).first()
    redemption = Redemption.objects.first()
    outside = OutsideCoupon.objects.get(code="J880001")  # redeemed at 501

    log_in(page, live_server, "operator")
    expected = {
        "RX000001": ("/coupons/", "RX000001"),
        recharge.recharge_no: ("/coupons/", recharge.code),
        pickup_code.code: (f"/pickup/codes/{pickup_code.pk}/", pickup_code.code),
        "DEMO80": ("/promocodes/", "DEMO80"),
        pickup_order.order_no: ("/pickup/orders/", pickup_order.order_no),
        member_order.order_no: ("/redemption/members/", member_order.order_no),
        "J880001": (f"/redemption/outside/archive/{outside.pk}/", "J880001"),
        "5500199339": ("/redemption/members/", "5500199339"),
    }
    for number, (path, shown) in expected.items():
        _search(page, number)
        assert path in page.url, (number, page.url)
        assert shown in page.inner_text("main"), (number, shown)
        if number == "J880001":
            screenshot(page, "walk-7-outside-coupon")
    # a redemption number is for who sees redemptions: the HQ opens the records page
    page.context.clear_cookies()
    log_in(page, live_server, "hq")
    _search(page, redemption.redemption_no)
    assert "/redemption/records/" in page.url
    screenshot(page, "walk-8-hq-redemption-number")
    # the clerk of 501 opens the outside coupon redeemed there; the clerk of 380 does not
    page.context.clear_cookies()
    log_in(page, live_server, "clerk2")
    _search(page, "J880001")
    assert f"/redemption/outside/archive/{outside.pk}/" in page.url
    assert "聚食汇国贸店" in page.inner_text("#outside-coupon-use")
    page.context.clear_cookies()
    log_in(page, live_server, "clerk")
    _search(page, "J880001")
    assert _not_found(page, "J880001")


def test_a_locked_out_clerk_sets_a_new_password_through_a_one_time_link(demo, page, live_server):
    page.goto(f"{live_server.url}/login/")
    for _ in range(5):
        page.fill("#id_username", "clerk")
        page.fill("#id_password", "wrong-password")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert AccessAttempt.objects.filter(username="clerk").exists()

    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/staff/users/?q=clerk")
    with page.expect_navigation():
        page.get_by_role("link", name="clerk", exact=True).click()
    page.click("button:has-text('生成一次性链接')")
    with page.expect_navigation():
        page.locator(".popconfirm").get_by_role("button", name="确定").click()
    link = page.input_value("#password-link")
    assert "/staff/password-link/" in link
    screenshot(page, "walk-9-password-link-made")

    page.context.clear_cookies()
    page.goto(link)
    page.wait_for_url("**/set-password/")
    screenshot(page, "walk-10-password-link-page")
    page.fill("#id_new_password1", "Lan-Gang-380!")
    page.fill("#id_new_password2", "Lan-Gang-380!")
    with page.expect_navigation():
        page.click("button:has-text('设置密码')")
    assert "新密码已设置" in page.inner_text("main")
    log_in(page, live_server, "clerk", "Lan-Gang-380!")
    assert not AccessAttempt.objects.filter(username="clerk").exists()

    page.context.clear_cookies()
    page.goto(link)
    assert "该密码链接已失效" in page.inner_text("main")
    screenshot(page, "walk-11-password-link-spent")
