"""A long list in Chromium: the pager says the total is an estimate and walks on by keyset
(core.pagination), with the limits made small so a few dozen codes stand for millions."""

import shutil
from pathlib import Path

import pytest
from django.db import connection

from couponhub.core import pagination
from tests.browser.conftest import log_in, screenshot
from tests.factories import OrgFactory, Role, user_with_role
from tests.pickup.factories import CodeBatchFactory, PickupCodeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots/imports")


def _shot(page, name):
    path = screenshot(page, name)
    if SHOTS.parent.exists():  # the developer's own copy, outside the repository
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def test_the_code_list_shows_an_estimate_and_walks_on_by_keyset(page, live_server, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_UP_TO", 30)
    monkeypatch.setattr(pagination, "MAX_OFFSET", 40)
    user_with_role(Role.OPERATOR, OrgFactory(), username="pager_op")
    batch = CodeBatchFactory(serial_start=5000, quantity=90)
    for i in range(90):
        PickupCodeFactory(batch=batch, serial=5000 + i, code=f"PAGE{i:08d}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pickup_pickupcode")
    log_in(page, live_server, "pager_op", "pw-123456")
    page.goto(f"{live_server.url}/pickup/")
    pager = page.locator("nav.pager")
    assert "约 " in pager.inner_text() and "第 1 页" in pager.inner_text()
    assert page.locator("input.page-input").get_attribute("max") == "3"  # 40 rows by number
    _shot(page, "list-pager-1-estimate")
    # 下一页 four times: past the pages reachable by number, by the last row's key
    for number in range(2, 6):
        page.get_by_role("link", name="下一页").click()
        page.wait_for_url(f"**page={number}**")
        assert f"第 {number} 页" in pager.inner_text()
    assert "after=" in page.url
    first = (number - 1) * 20
    assert page.locator("tbody tr").first.inner_text().startswith(str(5000 + first))
    assert f"PAGE{first:08d}" in page.content() and "下一页" not in pager.inner_text()
    assert "约 " in pager.inner_text() and "第 5 页" in pager.inner_text()
    _shot(page, "list-pager-2-keyset-last-page")
    # 上一页 goes back the same way
    page.get_by_role("link", name="上一页").click()
    page.wait_for_url("**before=**")
    assert "第 4 页" in pager.inner_text() and f"PAGE{first - 20:08d}" in page.content()
