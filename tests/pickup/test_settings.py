import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from couponhub.core.models import AuditEntry
from pickup.models import PickupSettings

pytestmark = pytest.mark.django_db

DATA = {
    "name": "大闸蟹提货系统",
    "contact_phone": "4006-110-166",
    "contact_address": "",
    "service_hours": "9:00-18:00",
    "red_packet_name": "蟹礼红包",
    "pickup_notes": "请在有效期内提货",
    "auto_complete_days": "10",
}


def _image(fmt="PNG", size=(1200, 600)):
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 16, 46)).save(buf, format=fmt)
    return buf.getvalue()


def test_settings_save_with_a_logo_resized(op_client):
    response = op_client.post(
        reverse("pickup:settings"),
        {**DATA, "logo_upload": SimpleUploadedFile("logo.jpg", _image("JPEG"))},
    )
    assert response.status_code == 302
    settings_obj = PickupSettings.load()
    assert settings_obj.red_packet_name == "蟹礼红包"
    with settings_obj.logo.open("rb") as fh, Image.open(fh) as img:
        assert img.format == "PNG" and max(img.size) <= 400
    entry = AuditEntry.objects.get(action="pickup.settings.update")
    assert entry.after["logo"].startswith("pickup/logo/")


@pytest.mark.parametrize(
    "content,message",
    [
        (b"not an image at all", "LOGO：文件不是有效的图片。"),
        (b"GIF89a" + b"\0" * 20, "LOGO：文件不是有效的图片。"),
        (b"\0" * (2 * 1024 * 1024 + 1), "LOGO：文件超过2MB。"),
    ],
)
def test_settings_refuse_bad_logos(op_client, content, message):
    response = op_client.post(
        reverse("pickup:settings"), {**DATA, "logo_upload": SimpleUploadedFile("x.png", content)}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PickupSettings.load().logo


def test_settings_refused_to_hq(client, hq):
    client.force_login(hq)
    assert client.get(reverse("pickup:settings")).status_code == 403


def test_settings_keep_the_administrators_phones_and_refuse_a_bad_one(op_client):
    response = op_client.post(
        reverse("pickup:settings"), {**DATA, "admin_phones": "13800000001 13900000002"}
    )
    assert response.status_code == 302
    assert PickupSettings.load().admin_phone_list == ["13800000001", "13900000002"]
    response = op_client.post(reverse("pickup:settings"), {**DATA, "admin_phones": "138-0000"})
    assert response.status_code == 200
    assert "管理员手机号：“138-0000”不是11位手机号码" in response.content.decode()
    assert PickupSettings.load().admin_phone_list == ["13800000001", "13900000002"]


def test_the_uploaded_logo_is_served_to_anyone_and_private_media_is_not(op_client, client):
    op_client.post(
        reverse("pickup:settings"),
        {**DATA, "logo_upload": SimpleUploadedFile("logo.png", _image("PNG"))},
    )
    url = PickupSettings.load().logo.url
    assert url.startswith("/media/public/pickup/logo/")
    response = client.get(url)  # not logged in: the consumer pages show it
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert "public" in response["Cache-Control"]
    assert client.get("/media/public/pickup/logo/none.png").status_code == 404
    assert client.get("/media/public/../jobs/x.xlsx").status_code == 404
