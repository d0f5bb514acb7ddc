import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from couponhub.core.models import Job, RoleAssignment
from members.models import Member, MemberImport
from tests.factories import StoreFactory, user_with_role
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role
HEADER = "手机号,会员卡号,姓名,性别,生日,会员等级,注册门店编码\n"


@pytest.fixture
def operator(client):
    store = StoreFactory(code="380")
    user = user_with_role(Role.OPERATOR, store.parent.parent)
    client.force_login(user)
    return user


@pytest.fixture
def _upload(client, django_capture_on_commit_callbacks):
    def upload(client, text, name="members.csv"):
        f = SimpleUploadedFile(name, text.encode("utf-8"))
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("members:import"), {"file": f})

    return upload


def test_import_creates_every_member(client, operator, _upload):
    resp = _upload(
        client,
        HEADER + "13800000001,C001,张三,男,1990-01-02,金卡,380\n13800000002,C002,李四,女,,,\n",
    )
    assert resp.status_code == 302
    job = Job.objects.get(kind="members.import")
    assert job.status == Job.Status.SUCCEEDED
    zhang = Member.objects.get(phone="13800000001")
    assert zhang.gender == "M" and zhang.registration_store.code == "380"
    assert zhang.source == Member.Source.IMPORT
    assert MemberImport.objects.get().imported == 2


def test_import_with_a_bad_row_writes_nothing_and_lists_errors(client, operator, _upload):
    MemberFactory(phone="13800000009")
    _upload(
        client,
        HEADER
        + "13800000001,C001,张三,男,,,\n"
        + "1380000,C002,李四,女,,,\n"
        + "13800000009,C003,王五,X,1990-13-01,,999\n"
        + "13800000001,C004,赵六,,,,\n",
    )
    job = Job.objects.get(kind="members.import")
    assert job.status == Job.Status.FAILED
    assert Member.objects.count() == 1
    errors = {e["row"]: e["error"] for e in MemberImport.objects.get().errors}
    assert "手机号“1380000”格式不正确" in errors[3]
    assert "性别“X”不正确" in errors[4] and "生日" in errors[4] and "注册门店编码“999”" in errors[4]
    assert "与第2行重复" in errors[5]


def test_import_refuses_wrong_file_type(client, operator, _upload):
    resp = _upload(client, "x", name="members.txt")
    assert resp.status_code == 200
    assert "只支持.xlsx、.csv文件" in resp.content.decode()


def test_import_needs_permission(client):
    client.force_login(user_with_role(Role.CLERK, StoreFactory()))
    assert client.get(reverse("members:import")).status_code == 403
