import pytest
from django.core.management import call_command

from couponhub.core.models import Org
from redemption.models import Redemption
from tests.browser.conftest import log_in, screenshot
from tests.redemption.factories import RedemptionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _search(page, text):
    page.fill("#header-search-q", text)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_the_header_search_opens_a_member_and_hides_another_stores_number(demo, page, live_server):
    other = RedemptionFactory(store=Org.objects.get(code="501"), redemption_no="HX202600000501")
    log_in(page, live_server, "clerk")
    screenshot(page, "search-header")
    _search(page, "17700000516")
    assert "/redemption/members/" in page.url and "会员详情" in page.inner_text("h1")
    _search(page, other.redemption_no)
    assert "没有找到您可以查看的“HX202600000501”" in page.inner_text("main")
    screenshot(page, "search-not-found")
    assert Redemption.objects.filter(redemption_no="HX202600000501").exists()
