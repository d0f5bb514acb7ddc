"""The frame every back-office page shares: the menu's active entry and section, the breadcrumb
(section › entry › the page itself), the icons, and the admin pages inside the same frame."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from couponhub.core.navigation import all_items, breadcrumb, menu_for
from couponhub.core.templatetags.ui import icon
from tests.factories import OrgFactory, Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


def crumbs(html: str) -> list[str]:
    nav = re.search(r'<nav class="breadcrumb".*?</nav>', html, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li.*?</li>", nav, re.S)]


def test_a_page_under_a_menu_entry_makes_that_entry_and_its_section_active():
    operator = user_with_role(Role.OPERATOR, OrgFactory())
    path = reverse("coupons:rule_detail", args=[7])
    menu = menu_for(operator, path)
    active = [(s["section"], e["label"]) for s in menu for e in s["items"] if e["active"]]
    assert active == [("优惠券管理", "券注册发行")]
    assert [s["section"] for s in menu if s["active"]] == ["优惠券管理"]
    assert breadcrumb(menu, path) == {
        "section": "优惠券管理",
        "label": "券注册发行",
        "url": reverse("coupons:rule_list"),
        "exact": False,
    }
    assert breadcrumb(menu_for(operator, "/"), "/") is None


def test_every_menu_section_has_an_icon_and_its_entries_agree_on_it():
    icons: dict[str, set[str]] = {}
    for item in all_items():
        icons.setdefault(str(item.section), set()).add(item.icon)
    for section, names in icons.items():
        assert len(names) == 1 and "" not in names, section
        assert icon(next(iter(names))).startswith('<svg aria-hidden="true"')


def test_icon_names_are_plain_lucide_names():
    assert 'stroke="currentColor"' in icon("ticket")
    with pytest.raises(ValueError):
        icon("../secrets")


def test_the_breadcrumb_names_section_entry_and_the_page(client):
    client.force_login(user_with_role(Role.OPERATOR, OrgFactory()))
    page = client.get(reverse("coupons:rule_list")).content.decode()
    assert crumbs(page) == ["首页", "优惠券管理", "券注册发行"]
    page = client.get(reverse("coupons:rule_create")).content.decode()
    title = re.search(r"<title>(.*?) · ", page).group(1)
    assert crumbs(page) == ["首页", "优惠券管理", "券注册发行", title]
    page = client.get(reverse("core:downloads")).content.decode()
    assert crumbs(page) == ["首页", "下载中心"]


def test_a_short_menu_shows_all_its_groups_open_a_long_one_only_the_current(client):
    store = StoreFactory()
    client.force_login(user_with_role(Role.CLERK, store))
    page = client.get(reverse("home")).content.decode()
    groups = re.findall(r'<details class="nav-group[^"]*"[^>]*>', page)
    assert groups and all(" open" in g for g in groups)
    client.force_login(user_with_role(Role.OPERATOR, store.parent.parent))
    page = client.get(reverse("coupons:rule_list")).content.decode()
    groups = re.findall(r'<details class="nav-group[^"]*"[^>]*>', page)
    assert len(groups) > 5 and sum(" open" in g for g in groups) == 1


def test_the_admin_pages_sit_in_the_same_frame(client):
    admin = user_with_role(Role.ADMIN, OrgFactory(), is_staff=True)
    admin.user_permissions.add(Permission.objects.get(codename="view_org"))
    client.force_login(admin)
    page = client.get(reverse("admin:core_org_changelist")).content.decode()
    assert 'class="topbar"' in page and 'id="sidebar"' in page
    assert "css/admin-theme.css" in page and "dark_mode.css" not in page
    # Django's admin is in no menu (our staff pages are): the trail is home and the page
    assert crumbs(page)[0] == "首页"
