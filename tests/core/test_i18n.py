from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import Role, StoreFactory, user_with_role

CATALOGUES = sorted(
    p
    for p in Path(settings.BASE_DIR).rglob("locale/zh_Hans/LC_MESSAGES/django.po")
    if ".venv" not in p.parts
)


def test_there_are_catalogues():
    assert CATALOGUES


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.parent.parent.parent.parent))
def test_every_catalogue_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    missing = [
        e.msgid for e in po if not e.obsolete and not (e.msgstr or any(e.msgstr_plural.values()))
    ]
    assert missing == []
    assert not [e.msgid for e in po if "fuzzy" in e.flags and not e.obsolete]
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}  # pgettext: one entry per context
    for entry in po.translated_entries():
        if not entry.msgid_plural:
            key = (entry.msgctxt, entry.msgid)
            assert compiled.get(key) == entry.msgstr, f"{key!r} not compiled"


@pytest.mark.django_db
def test_pages_speak_chinese(client):
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    body = client.get(reverse("home")).content.decode()
    assert "首页" in body and "退出登录" in body and "下载中心" in body


def _entries():
    for po_path in CATALOGUES:
        for entry in polib.pofile(str(po_path)):
            if not entry.obsolete and not entry.msgid_plural:
                yield po_path, entry


def test_one_msgid_carries_one_meaning_across_catalogues():
    """Django merges every catalogue into one, so a msgid translated two ways in two apps shows
    one app's word on the other app's page. Two meanings need a pgettext context."""
    seen: dict[tuple, dict[str, str]] = {}
    for po_path, entry in _entries():
        seen.setdefault((entry.msgctxt, entry.msgid), {})[str(po_path)] = entry.msgstr
    collisions = {key: where for key, where in seen.items() if len(set(where.values())) > 1}
    assert collisions == {}


def test_every_word_of_ours_is_the_word_that_shows():
    """Django's own catalogues (admin, auth) come earlier than ours; a msgid they also translate
    would show their word instead of the manuals'."""
    from django.utils import translation

    with translation.override("zh-hans"):
        wrong = []
        for po_path, entry in _entries():
            if entry.msgctxt:
                shown = translation.pgettext(entry.msgctxt, entry.msgid)
            else:
                shown = translation.gettext(entry.msgid)
            if shown != entry.msgstr:
                wrong.append((str(po_path), entry.msgctxt, entry.msgid, entry.msgstr, shown))
    assert wrong == []
