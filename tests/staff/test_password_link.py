"""An administrator's one-time password link: made, texted, used once, and refused otherwise."""

import datetime
import re
import threading
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client
from django.urls import reverse

from couponhub.core import sms
from couponhub.core.errors import Refused
from couponhub.core.models import AuditEntry, SmsMessage
from staff import services
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db

NEW = "Blue-Harbour-2031"


@pytest.fixture
def tree():
    group = OrgFactory(name="集团")
    region = RegionFactory(parent=group, name="零售")
    other = RegionFactory(parent=group, name="餐饮")
    return {
        "group": group,
        "region": region,
        "store": StoreFactory(parent=region, name="蓝港店"),
        "other_store": StoreFactory(parent=other, name="望京店"),
    }


@pytest.fixture
def admin(tree):
    return user_with_role(Role.ADMIN, tree["group"], username="boss")


@pytest.fixture
def clerk(tree):
    user = user_with_role(Role.CLERK, tree["store"], username="clerk_a")
    user.phone = "13800000011"
    user.set_password("Old-Password-1")
    user.save()
    return user


def _make_link(client, admin, user) -> str:
    client.force_login(admin)
    response = client.post(reverse("staff:user_action", args=[user.pk, "password-link"]))
    assert response.status_code == 200
    client.logout()
    return response.context["link"].url


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _set_password(client, url: str, password: str = NEW):
    """Open the link (the token moves into the session) and post the new password."""
    opened = client.get(_path(url))
    if opened.status_code != 302:
        return opened
    return client.post(opened.url, {"new_password1": password, "new_password2": password})


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_the_link_is_shown_once_texted_and_sets_the_password_once(client, admin, clerk, sms_outbox):
    sms.top_up_sms_account(actor=None, amount=Decimal("1.00"))
    client.force_login(admin)
    response = client.post(reverse("staff:user_action", args=[clerk.pk, "password-link"]))
    page = response.content.decode()
    url = response.context["link"].url
    assert url.startswith("http://testserver/staff/password-link/") and url in page
    assert "一次性密码链接" in page and "已同时短信发送至" in page
    [message] = SmsMessage.objects.filter(purpose="staff.password_link")
    assert message.phone == clerk.phone and url in message.text and message.status == "sent"
    assert sms_outbox[-1]["phone"] == clerk.phone
    made = AuditEntry.objects.get(action="staff.make_password_link")
    assert made.actor == admin and made.object_id == str(clerk.pk)
    assert url.rsplit("/", 2)[-2] not in str(made.after) + made.note
    client.logout()

    # the old password keeps working until the link is used
    clerk.refresh_from_db()
    assert clerk.check_password("Old-Password-1")

    opened = client.get(_path(url))
    # the token leaves the address at once: the form's page does not carry it
    assert opened.status_code == 302 and opened.url.endswith("/set-password/")
    form = client.get(opened.url)
    assert form.status_code == 200 and "设置新密码" in form.content.decode()
    done = client.post(opened.url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done.url == reverse("login")
    clerk.refresh_from_db()
    assert clerk.check_password(NEW) and not clerk.must_change_password
    used = AuditEntry.objects.get(action="staff.use_password_link")
    assert used.actor == clerk and used.object_id == str(clerk.pk)
    assert (
        client.post(reverse("login"), {"username": "clerk_a", "password": NEW}).status_code == 302
    )

    # a second use is refused, however it is tried
    client.logout()
    again = _set_password(client, url, "Other-Password-9")
    assert again.status_code == 410 and "该密码链接已失效" in again.content.decode()
    clerk.refresh_from_db()
    assert clerk.check_password(NEW)


def test_a_weak_password_is_refused_and_the_link_stays_usable(client, admin, clerk):
    url = _make_link(client, admin, clerk)
    opened = client.get(_path(url))
    weak = client.post(opened.url, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "密码" in weak.content.decode()
    clerk.refresh_from_db()
    assert clerk.check_password("Old-Password-1")
    assert client.post(opened.url, {"new_password1": NEW, "new_password2": NEW}).status_code == 302


def test_an_expired_link_is_refused(client, admin, clerk, monkeypatch, settings):
    url = _make_link(client, admin, clerk)
    # the token's own clock, a day and a few seconds on
    real_now = services.PasswordLinkTokens._now
    later = datetime.timedelta(hours=settings.PASSWORD_LINK_HOURS, seconds=5)
    monkeypatch.setattr(services.PasswordLinkTokens, "_now", lambda self: real_now(self) + later)
    response = _set_password(client, url)
    assert response.status_code == 410
    clerk.refresh_from_db()
    assert clerk.check_password("Old-Password-1")
    assert not AuditEntry.objects.filter(action="staff.use_password_link").exists()


def test_a_newer_link_voids_the_older_one(client, admin, clerk):
    first = _make_link(client, admin, clerk)
    second = _make_link(client, admin, clerk)
    assert _set_password(client, first).status_code == 410
    assert _set_password(client, second).status_code == 302


def test_a_link_stops_working_when_the_password_changes(client, admin, clerk):
    url = _make_link(client, admin, clerk)
    clerk.set_password("Changed-Meanwhile-3")
    clerk.save(update_fields=["password"])
    assert _set_password(client, url).status_code == 410


def test_a_token_for_another_user_and_a_tampered_token_are_refused(client, admin, clerk, tree):
    other = user_with_role(Role.CLERK, tree["store"], username="clerk_b")
    url = _make_link(client, admin, clerk)
    other_url = _make_link(client, admin, other)
    uid, token = _path(url).rstrip("/").split("/")[-2:]
    other_uid = _path(other_url).rstrip("/").split("/")[-2]

    # clerk's token on the other user's address
    response = client.get(reverse("staff:password_link", args=[other_uid, token]))
    assert response.status_code == 410
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")
    for uidb64, tok in [(uid, tampered), (uid, "nonsense"), ("!!", token), ("OTk5OTk5", token)]:
        response = client.get(reverse("staff:password_link", args=[uidb64, tok]))
        assert response.status_code == 410, (uidb64, tok)
    # the form's address without a token in the session
    response = client.post(
        reverse("staff:password_link", args=[uid, "set-password"]),
        {"new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 410
    clerk.refresh_from_db()
    other.refresh_from_db()
    assert clerk.check_password("Old-Password-1") and not other.check_password(NEW)


def test_a_locked_out_user_sets_a_password_and_can_log_in(client, admin, clerk):
    for _ in range(5):
        client.post(reverse("login"), {"username": "clerk_a", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="clerk_a").exists()
    locked = client.post(reverse("login"), {"username": "clerk_a", "password": "Old-Password-1"})
    assert locked.status_code == 429
    url = _make_link(client, admin, clerk)
    assert _set_password(client, url).status_code == 302
    assert not AccessAttempt.objects.filter(username="clerk_a").exists()
    # five failures and the locked-out try
    assert AuditEntry.objects.get(action="staff.use_password_link").note == "已清除6次登录失败记录"
    assert (
        client.post(reverse("login"), {"username": "clerk_a", "password": NEW}).status_code == 302
    )


def test_a_temporary_password_user_is_done_with_it_after_the_link(client, admin, clerk):
    clerk.must_change_password = True
    clerk.save(update_fields=["must_change_password"])
    url = _make_link(client, admin, clerk)
    assert _set_password(client, url).status_code == 302
    client.post(reverse("login"), {"username": "clerk_a", "password": NEW})
    assert client.get(reverse("home")).status_code == 200


def test_a_log_in_with_the_current_password_ends_the_link(client, admin, clerk):
    url = _make_link(client, admin, clerk)
    assert _login(client, "clerk_a", "Old-Password-1").status_code == 302
    client.logout()
    assert _set_password(client, url).status_code == 410
    clerk.refresh_from_db()
    assert clerk.check_password("Old-Password-1")


def test_a_user_logged_in_on_a_temporary_password_can_still_use_the_link(client, admin, clerk):
    clerk.must_change_password = True
    clerk.save(update_fields=["must_change_password"])
    client.force_login(clerk)  # a log-in after a link is made voids it (Django's token)
    url = _make_link(Client(), admin, clerk)
    # the temporary password's gate sends every other page to the password change, not this one
    assert client.get(reverse("home")).url == reverse("core:password_change")
    assert _set_password(client, url).status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password(NEW) and not clerk.must_change_password


def test_a_user_without_a_phone_gets_no_sms_and_a_deactivated_one_no_link(client, admin, tree):
    nophone = user_with_role(Role.CLERK, tree["store"], username="nophone")
    client.force_login(admin)
    response = client.post(reverse("staff:user_action", args=[nophone.pk, "password-link"]))
    assert "没有手机号" in response.content.decode()
    assert not SmsMessage.objects.filter(purpose="staff.password_link").exists()
    assert "无手机号" in AuditEntry.objects.get(action="staff.make_password_link").note

    nophone.is_active = False
    nophone.save(update_fields=["is_active"])
    response = client.post(
        reverse("staff:user_action", args=[nophone.pk, "password-link"]), follow=True
    )
    assert "已停用" in response.content.decode()
    assert AuditEntry.objects.filter(action="staff.make_password_link").count() == 1


def test_an_empty_sms_balance_still_gives_the_link(client, admin, clerk):
    client.force_login(admin)
    response = client.post(reverse("staff:user_action", args=[clerk.pk, "password-link"]))
    assert response.status_code == 200 and "短信未发出" in response.content.decode()
    assert _set_password(client, response.context["link"].url).status_code == 302


def test_who_may_make_a_link(client, tree, clerk):
    client.force_login(user_with_role(Role.OPERATOR, tree["group"]))
    url = reverse("staff:user_action", args=[clerk.pk, "password-link"])
    assert client.post(url).status_code == 403
    client.force_login(user_with_role(Role.ADMIN, tree["other_store"].parent))
    assert client.post(url).status_code == 404
    assert not AuditEntry.objects.filter(action="staff.make_password_link").exists()


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_set_the_password_once(tree):
    admin = user_with_role(Role.ADMIN, tree["group"], username="boss2")
    clerk = user_with_role(Role.CLERK, tree["store"], username="clerk_race")
    link = services.make_password_link(actor=admin, user=clerk, base_url="http://hub")
    uid, token = link.url.rstrip("/").split("/")[-2:]
    barrier = threading.Barrier(2)
    outcomes = []

    def submit(password):
        try:
            barrier.wait()
            services.use_password_link(uidb64=uid, token=token, new_password=password)
            outcomes.append(password)
        except Refused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(p,)) for p in ("First-Pass-11", "Second-22")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("refused") == 1
    clerk.refresh_from_db()
    winner = next(o for o in outcomes if o != "refused")
    assert clerk.check_password(winner)
    assert AuditEntry.objects.filter(action="staff.use_password_link").count() == 1
