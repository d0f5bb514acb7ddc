"""The back office's controls in Chromium at 1366×768: searchable selects with 全部, the Chinese
date and date-range picker, the confirmation popover and the toast after it, the collapsible and
independently scrolling sidebar, breadcrumbs, tables that keep statuses, dates and money on one
line with the actions column fixed at the right; and a screenshot of every page in each role's
menu (var/screenshots/role-*.png) with no server error and no Content-Security-Policy report."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from coupons.models import CouponRule
from pickup.models import Courier
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_filter_select_searches_its_choices_and_starts_with_all(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}{reverse('pickup:code_list')}")
    control = page.locator("#id_card_type + .ts-wrapper .ts-control")
    assert control.inner_text().strip() == "全部"
    control.click()
    dropdown = page.locator(".ts-dropdown:visible")
    options = dropdown.locator(".option")
    assert options.first.inner_text() == "全部"
    names = [n for n in options.all_inner_texts() if n != "全部"]
    assert len(names) >= 2
    wanted = names[-1]
    others = [n for n in names if n != wanted]
    typed = next(  # the shortest start of the wanted name that no other name contains
        wanted[:k] for k in range(1, len(wanted) + 1) if not any(wanted[:k] in n for n in others)
    )
    page.keyboard.type(typed)
    listed = page.locator("#id_card_type-ts-dropdown .option")
    listed.filter(has_text=others[0]).wait_for(state="detached")
    shown = listed.all_inner_texts()
    assert wanted in shown and not set(others) & set(shown), shown
    screenshot(page, "controls-select-search")
    page.keyboard.press("Enter")
    assert control.inner_text().strip() == wanted
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**card_type=*")
    chosen = page.locator("#id_card_type option:checked").inner_text()
    assert chosen == wanted and "card_type=" in page.url


def test_the_date_range_picker_speaks_chinese_and_fills_both_dates(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}{reverse('pickup:code_list')}")
    assert page.locator("input[name=date_from]").get_attribute("type") == "hidden"
    page.locator("input.date-range").click()
    calendar = page.locator(".flatpickr-calendar.open")
    assert "周一" in calendar.inner_text() and "月" in calendar.inner_text()
    days = calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)")
    days.nth(2).click()
    screenshot(page, "controls-date-range")
    days.nth(9).click()
    value = page.locator("input.date-range").input_value()
    assert re.fullmatch(r"\d{4}-\d\d-03 至 \d{4}-\d\d-10", value), value
    start = page.locator("input[name=date_from]").input_value()
    end = page.locator("input[name=date_to]").input_value()
    assert start.endswith("-03") and end.endswith("-10")
    page.keyboard.press("Escape")
    with page.expect_navigation():
        page.locator("form.filters button[type=submit]").click()
    assert f"date_from={start}" in page.url and f"date_to={end}" in page.url
    assert page.locator("input.date-range").input_value() == value  # shown again after the search


def test_a_single_date_field_gets_the_chinese_calendar(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}{reverse('coupons:rule_create')}")
    field = page.locator("input[name=effective_date]")
    assert field.get_attribute("type") == "text"
    field.click()
    assert "周日" in page.locator(".flatpickr-calendar.open").inner_text()
    page.wait_for_timeout(400)  # the calendar fades in
    screenshot(page, "controls-rule-form-date")


def test_delete_asks_in_a_popover_and_a_toast_tells_the_result(demo, page, live_server):
    courier = Courier.objects.create(name="极兔速递", code="JTSD", sort_order=99)
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}{reverse('pickup:courier_list')}")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    row = page.locator("tr", has_text=courier.name)
    row.get_by_role("button", name="删除").click()
    popover = page.locator(".popconfirm")
    assert courier.name in popover.inner_text()
    assert page.evaluate("document.activeElement.dataset.popconfirm") == "ok"
    screenshot(page, "controls-popconfirm")
    popover.get_by_role("button", name="取消").click()
    assert page.locator(".popconfirm").count() == 0
    assert Courier.objects.filter(pk=courier.pk).exists()

    row.get_by_role("button", name="删除").click()
    page.keyboard.press("Escape")  # Escape says no as well
    assert page.locator(".popconfirm").count() == 0

    row.get_by_role("button", name="删除").click()
    with page.expect_navigation():
        page.locator(".popconfirm").get_by_role("button", name="确定").click()
    toast = page.locator(".toasts .toast.msg-success")
    assert courier.name in toast.inner_text()
    box = toast.bounding_box()
    assert box["y"] < 120  # at the top of the window, over the page
    screenshot(page, "controls-toast")
    assert not Courier.objects.filter(pk=courier.pk).exists()
    assert asked == []  # never a browser dialog
    toast.locator(".toast-close").click()
    page.wait_for_selector(".toasts .toast", state="detached")


def test_the_sidebar_collapses_to_icons_and_scrolls_on_its_own(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}{reverse('pickup:red_packet_claims')}")
    sidebar = page.locator("#sidebar")
    groups = sidebar.locator("details.nav-group")
    assert groups.count() >= 8
    assert groups.locator("summary svg.lucide").count() >= 2 * groups.count()  # icon + chevron
    open_groups = sidebar.locator("details.nav-group[open]")
    assert open_groups.count() == 1 and "红包" in open_groups.locator("summary").inner_text()
    assert sidebar.locator("a.active").inner_text() == "红包领取明细"
    # opening every group makes the menu longer than the window: it scrolls, the page does not
    page.evaluate("document.querySelectorAll('#sidebar details').forEach(d => d.open = true)")
    assert sidebar.evaluate("s => s.scrollHeight > s.clientHeight")
    page.mouse.move(100, 400)
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(200)
    assert page.evaluate("document.getElementById('sidebar').scrollTop") > 0
    assert page.evaluate("window.scrollY") == 0

    page.locator("[data-sidebar-toggle]").click()
    assert sidebar.bounding_box()["width"] < 70
    assert not sidebar.get_by_text("红包领取明细").is_visible()
    screenshot(page, "controls-sidebar-collapsed")
    page.reload()  # remembered
    assert page.locator("#sidebar").bounding_box()["width"] < 70
    page.locator("#sidebar summary", has_text="优惠码").click()  # an icon opens the menu there
    assert page.locator("#sidebar").bounding_box()["width"] > 180
    assert page.locator("#sidebar").get_by_text("渠道管理").is_visible()


def test_breadcrumbs_name_the_section_the_page_and_the_record(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}{reverse('coupons:rule_list')}")
    crumbs = page.locator("nav.breadcrumb li").all_inner_texts()
    assert crumbs == ["首页", "优惠券管理", "券注册发行"]
    rule = CouponRule.objects.order_by("pk").first()
    page.goto(f"{live_server.url}{reverse('coupons:rule_detail', args=[rule.pk])}")
    crumbs = page.locator("nav.breadcrumb li").all_inner_texts()
    title = page.title().split(" · ")[0]
    assert crumbs == ["首页", "优惠券管理", "券注册发行", title] and rule.code in title
    page.locator("nav.breadcrumb a", has_text="券注册发行").click()
    assert page.url.endswith(reverse("coupons:rule_list"))
    page.goto(f"{live_server.url}{reverse('core:downloads')}")
    assert page.locator("nav.breadcrumb li").all_inner_texts() == ["首页", "下载中心"]


NOWRAP_COLUMNS = re.compile(r"status|_at$|date|time|amount|price|value|money|balance|total")

LINES_OF_CELLS = """(pattern) => {
  const re = new RegExp(pattern);
  const wrapped = [];
  document.querySelectorAll("table.table td[data-col]").forEach(td => {
    if (!re.test(td.dataset.col) || !td.textContent.trim()) return;
    const range = document.createRange();
    range.selectNodeContents(td);
    const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => r.top);
    const lines = new Set(tops.map(t => Math.round((t - Math.min(...tops)) / 12)));
    if (lines.size > 1) wrapped.push(td.dataset.col + ": " + td.textContent.trim());
  });
  return wrapped;
}"""


@pytest.mark.parametrize(
    ("username", "url_name"),
    [
        ("operator", "coupons:coupon_list"),
        ("operator", "pickup:code_list"),
        ("operator", "promocodes:applications"),
        ("finance", "promocodes:review"),
        ("clerk", "redemption:records"),
    ],
)
def test_wide_tables_keep_statuses_dates_and_money_on_one_line(
    demo, page, live_server, username, url_name
):
    log_in(page, live_server, username)
    page.goto(f"{live_server.url}{reverse(url_name)}")
    assert page.locator("table.table tbody td[data-col]").count() > 0
    assert page.evaluate(LINES_OF_CELLS, NOWRAP_COLUMNS.pattern) == []
    actions = page.locator("table.table td[data-col=actions]")
    if actions.count():
        container = page.locator(".table-container").first
        assert actions.first.evaluate("td => getComputedStyle(td).position") == "sticky"
        right = container.bounding_box()["x"] + container.bounding_box()["width"]
        cell = actions.first.bounding_box()
        assert cell["x"] + cell["width"] <= right + 1  # inside the view, at its right edge
    screenshot(page, f"controls-table-{url_name.replace(':', '-')}")


def test_a_coupon_list_too_wide_for_the_window_keeps_its_actions_in_view(demo, page, live_server):
    log_in(page, live_server, "operator")
    page.goto(f"{live_server.url}{reverse('coupons:coupon_list')}")
    container = page.locator(".table-container").first
    wide = container.evaluate("c => c.scrollWidth > c.clientWidth")
    actions = page.locator("table.table td[data-col=actions]").first
    box = container.bounding_box()
    right = box["x"] + box["width"]
    assert abs(actions.bounding_box()["x"] + actions.bounding_box()["width"] - right) <= 2
    if wide:
        container.evaluate("c => c.scrollLeft = 200")
        page.wait_for_timeout(100)
        assert abs(actions.bounding_box()["x"] + actions.bounding_box()["width"] - right) <= 2


# Every page in each role's menu, screenshotted at 1366×768.
ROLES = ["operator", "finance", "hq", "clerk", "manager", "admin"]


@pytest.mark.parametrize("username", ROLES)
def test_every_menu_page_of_each_role_renders_in_one_visual_system(
    demo, page, live_server, username
):
    failures = []
    page.on("pageerror", lambda error: failures.append(f"{page.url}: {error}"))
    page.on(
        "response",
        lambda r: (
            failures.append(f"{r.status} {r.url}")
            if r.status >= 400 and live_server.url in r.url
            else None
        ),
    )
    log_in(page, live_server, username)
    screenshot(page, f"role-{username}-00-home")
    links = page.locator("#sidebar details.nav-group a").evaluate_all(
        "links => links.map(a => [a.href, a.textContent.trim()])"
    )
    assert links
    for index, (href, label) in enumerate(links, start=1):
        page.goto(href)
        assert page.locator(".topbar").count() == 1, f"{label}: not in the CouponHub frame"
        assert page.locator("#sidebar a.active").count() == 1, label
        crumbs = page.locator("nav.breadcrumb li").all_inner_texts()
        assert crumbs[0] == "首页" and len(crumbs) >= 3, (label, crumbs)
        screenshot(page, f"role-{username}-{index:02d}")
    assert failures == []


def test_error_pages_wear_the_same_look(demo, page, live_server):
    page.goto(f"{live_server.url}/no-such-page/")
    assert page.locator(".login-box .error-code").inner_text() == "404"
    screenshot(page, "error-404-anonymous")
    log_in(page, live_server, "clerk")
    page.goto(f"{live_server.url}/no-such-page/")
    assert page.locator(".topbar").count() == 1 and page.locator("#sidebar").count() == 1
    assert page.locator(".error-page .error-code").inner_text() == "404"
    page.goto(f"{live_server.url}{reverse('core:audit_log')}")  # not a clerk's page
    assert page.locator(".error-page .error-code").inner_text() == "403"
    screenshot(page, "error-403-clerk")
