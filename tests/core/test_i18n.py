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
