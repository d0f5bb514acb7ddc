"""Member tags: operators define them, put them on members one by one or in bulk, filter the
member list by them and send member messages to a tag's members."""

import io

import pytest
from django.urls import reverse

from couponhub.core.models import AuditEntry
from couponhub.core.spreadsheets import write_xlsx
from members.models import Member, MemberTag
from messaging.models import MemberMessage
from tests.factories import OrgFactory, Role, StoreFactory, user_with_role
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return user_with_role(Role.OPERATOR, OrgFactory())


@pytest.fixture
def tag():
    return MemberTag.objects.create(name="高价值")


def _names(member: Member) -> set[str]:
    return set(member.tags.values_list("name", flat=True))


def _xlsx(values, name="名单.xlsx"):
    buffer = io.BytesIO()
    write_xlsx(buffer, headers=["手机号"], rows=[[v] for v in values])
    buffer.seek(0)
    buffer.name = name
    return buffer


def test_an_operator_defines_renames_and_deletes_a_tag(client, operator):
    client.force_login(operator)
    response = client.post(reverse("members:tags"), {"name": " 咖啡爱好者 ", "note": "常买咖啡"})
    assert response.status_code == 302
    tag = MemberTag.objects.get()
    assert tag.name == "咖啡爱好者"
    again = client.post(reverse("members:tags"), {"name": "咖啡爱好者"})
    assert "标签名称：“咖啡爱好者”已被使用" in again.content.decode()
    assert MemberTag.objects.count() == 1

    client.post(reverse("members:tag_detail", args=[tag.pk]), {"name": "咖啡控", "note": ""})
    tag.refresh_from_db()
    assert tag.name == "咖啡控"
    member = MemberFactory()
    member.tags.add(tag)
    page = client.get(reverse("members:tags")).content.decode()
    assert "咖啡控" in page and "查看会员" in page

    response = client.post(reverse("members:tag_delete", args=[tag.pk]), follow=True)
    assert "原有1位会员带此标签" in response.content.decode()
    assert not MemberTag.objects.exists() and not _names(member)
    actions = list(
        AuditEntry.objects.filter(action__startswith="members.tag_")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["members.tag_create", "members.tag_update", "members.tag_delete"]
    assert AuditEntry.objects.get(action="members.tag_delete").before["members"] == 1


def test_tags_are_set_on_the_member_detail_page(client, operator, tag):
    other = MemberTag.objects.create(name="新客")
    member = MemberFactory()
    client.force_login(operator)
    url = reverse("redemption:member_detail", args=[member.pk])
    page = client.get(url).content.decode()
    assert 'id="tags"' in page and "暂无标签" in page and "保存标签" in page
    action = reverse("redemption:member_action", args=[member.pk, "tags"])
    assert client.post(action, {"tags": [tag.pk, other.pk]}).status_code == 302
    assert _names(member) == {"高价值", "新客"}
    client.post(action, {"tags": [other.pk]})
    assert _names(member) == {"新客"}
    entries = AuditEntry.objects.filter(action="members.set_tags", object_id=str(member.pk))
    assert [e.after["tags"] for e in entries.order_by("id")] == ["新客、高价值", "新客"]
    page = client.get(url).content.decode()
    assert '<span class="tag">新客</span>' in page


def test_a_clerk_sees_the_tags_but_cannot_change_them(client, tag):
    store = StoreFactory()
    clerk = user_with_role(Role.CLERK, store)
    member = MemberFactory(registration_store=store)
    member.tags.add(tag)
    client.force_login(clerk)
    page = client.get(reverse("redemption:member_detail", args=[member.pk])).content.decode()
    assert "高价值" in page and "保存标签" not in page
    action = reverse("redemption:member_action", args=[member.pk, "tags"])
    assert client.post(action, {"tags": []}).status_code == 403
    assert _names(member) == {"高价值"}
    for url in [reverse("members:tags"), reverse("members:tag_detail", args=[tag.pk])]:
        assert client.get(url).status_code == 403
    assert (
        client.post(reverse("members:tag_apply"), {"tag": tag.pk, "op": "add"}).status_code == 403
    )
    assert client.post(reverse("members:tag_delete", args=[tag.pk])).status_code == 403


def test_the_member_list_tags_the_ticked_members_and_filters_by_tag(client, operator, tag):
    ticked = MemberFactory.create_batch(3)
    ticked[0].tags.add(tag)
    untouched = MemberFactory()
    client.force_login(operator)
    page = client.get(reverse("members:list")).content.decode()
    assert 'name="selection"' in page and "加标签" in page
    back = reverse("members:list") + "?level=%E9%92%BB%E7%9F%B3%E7%BA%A7"
    response = client.post(
        reverse("members:tag_apply"),
        {"tag": tag.pk, "op": "add", "selection": [m.pk for m in ticked], "next": back},
    )
    assert response.status_code == 302 and response.url == back
    assert all(_names(m) == {"高价值"} for m in ticked) and not _names(untouched)
    entry = AuditEntry.objects.get(action="members.tag_members")
    assert entry.after == {"members": 2} and entry.note == "会员列表勾选"
    message = client.get(back).content.decode()
    assert "已给2位会员加上标签“高价值”。1位已有该标签。" in message

    filtered = client.get(reverse("members:list"), {"tag": tag.pk})
    rows = list(filtered.context["table"].page.object_list)
    assert {r.record.pk for r in rows} == {m.pk for m in ticked}
    assert '<span class="tag">高价值</span>' in filtered.content.decode()

    client.post(
        reverse("members:tag_apply"),
        {"tag": tag.pk, "op": "remove", "selection": [ticked[0].pk]},
    )
    assert not _names(ticked[0]) and _names(ticked[1]) == {"高价值"}
    assert AuditEntry.objects.get(action="members.untag_members").after == {"members": 1}

    # nothing ticked, or no tag chosen: refused with the reason, nothing written
    response = client.post(reverse("members:tag_apply"), {"tag": tag.pk, "op": "add"}, follow=True)
    assert "未选择会员" in response.content.decode()
    response = client.post(
        reverse("members:tag_apply"), {"op": "add", "selection": [untouched.pk]}, follow=True
    )
    assert "标签：" in response.content.decode() and not _names(untouched)
    assert AuditEntry.objects.filter(action__endswith="tag_members").count() == 2


def test_an_uploaded_list_of_phones_tags_its_members_or_is_refused_whole(client, operator, tag):
    listed = MemberFactory.create_batch(3)
    other = MemberFactory()
    client.force_login(operator)
    url = reverse("members:tag_upload", args=[tag.pk])
    bad = client.post(url, {"op": "add", "file": _xlsx([listed[0].phone, "13999999999"])})
    assert bad.status_code == 400 and "名单中有不是会员的行" in bad.content.decode()
    assert not _names(listed[0])

    # a phone, a card number and a member ID all name a member
    values = [listed[0].phone, listed[1].card_no, listed[2].member_no]
    response = client.post(url, {"op": "add", "file": _xlsx(values)}, follow=True)
    assert "已给3位会员加上标签“高价值”" in response.content.decode()
    assert all(_names(m) == {"高价值"} for m in listed) and not _names(other)
    assert AuditEntry.objects.get(action="members.tag_members").note == "名单.xlsx"

    client.post(url, {"op": "remove", "file": _xlsx([listed[0].phone])})
    assert not _names(listed[0]) and _names(listed[1]) == {"高价值"}


def test_a_member_message_goes_to_a_tags_members_and_level_stays_its_own_choice(
    client, operator, tag
):
    tagged = MemberFactory.create_batch(2, level="金卡")
    for member in tagged:
        member.tags.add(tag)
    MemberFactory(level="钻石级")
    MemberFactory(level="金卡")
    client.force_login(operator)
    form = client.get(reverse("messaging:list")).content.decode()
    assert "会员标签" in form and "会员等级" in form
    response = client.post(
        reverse("messaging:list"),
        {"selection": "tag", "tag": tag.pk, "text": "高价值会员专享", "marketing": "on"},
    )
    message = MemberMessage.objects.get()
    assert response.url == reverse("messaging:detail", args=[message.pk])
    assert message.recipients == 2 and message.selection_label == "会员标签：高价值"
    response = client.post(
        reverse("messaging:list"), {"selection": "tag", "text": "x", "marketing": "on"}
    )
    assert "会员标签" in response.content.decode() and MemberMessage.objects.count() == 1
    response = client.post(
        reverse("messaging:list"),
        {"selection": "level", "level": "金卡", "text": "金卡会员专享", "marketing": "on"},
    )
    assert MemberMessage.objects.get(selection="level").recipients == 3
