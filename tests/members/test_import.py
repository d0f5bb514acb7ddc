import functools
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from couponhub.core.jobs import JobCancelled, rerun_job, run_job
from couponhub.core.models import AuditEntry, Job, RoleAssignment
from couponhub.core.spreadsheets import read_rows
from members import jobs, services
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


# --- the streamed import: the runner on a stored upload -------------------------------------

FULL_HEADER = "手机号,会员卡号,姓名,性别,生日,会员等级,注册门店编码,会员ID\n"


def _good_rows(n: int, *, start: int = 0) -> list[str]:
    """n good rows; every third has a member ID, the others get one from the import."""
    return [
        f"137{start + i:08d},K{start + i:06d},会员{i},{'男女'[i % 2]},1990-01-02,金卡,380,"
        + (f"N{start + i}" if i % 3 == 0 else "")
        for i in range(n)
    ]


def _run_import(owner, text: str, name: str = "members.csv"):
    """Store the upload like start_member_import and run its job (no worker)."""
    job = Job.objects.create(kind="members.import", title=name, owner=owner)
    imp = MemberImport(created_by=owner, original_name=name, job=job)
    imp.file.save(name, ContentFile(text.encode("utf-8")), save=False)
    imp.save()
    run_job(job.pk)
    job.refresh_from_db()
    imp.refresh_from_db()
    return job, imp


def _errors(imp) -> dict[int, str]:
    return {e["row"]: e["error"] for e in imp.errors}


def test_duplicates_within_the_file_name_the_first_row(operator):
    job, imp = _run_import(
        operator,
        FULL_HEADER
        + "13800000001,C001,张三,男,,,,M1\n"  # row 2
        + "13800000001,C002,李四,女,,,,\n"  # 3: phone of row 2
        + "13800000003,C001,王五,,,,,\n"  # 4: card of row 2
        + "13800000004,C004,赵六,,,,,M1\n"  # 5: member ID of row 2
        + "13800000005,C005,钱七,X,,,,\n"  # 6: bad gender
        + "13800000005,C001,孙八,,,,,M1\n",  # 7: phone of row 6 (bad itself), card, ID of row 2
    )
    assert job.status == Job.Status.FAILED
    assert Member.objects.count() == 0
    assert _errors(imp) == {
        3: "手机号13800000001与第2行重复",
        4: "会员卡号C001与第2行重复",
        5: "会员IDM1与第2行重复",
        6: "性别“X”不正确，应为男/女",
        7: "手机号13800000005与第6行重复；会员卡号C001与第2行重复；会员IDM1与第2行重复",
    }
    assert imp.total_rows == 6 and imp.imported == 0
    assert job.result == {"errors": [{"row": r, "error": e} for r, e in _errors(imp).items()]}
    assert job.error.startswith("5行有错误，未导入任何会员：第3行：手机号13800000001与第2行重复；")


def test_values_members_already_have_are_refused(operator):
    MemberFactory(phone="13800000009", card_no="C009", member_no="M9")
    MemberFactory(phone="13800000008")
    job, imp = _run_import(
        operator,
        FULL_HEADER
        + "13800000001,C001,张三,男,,,,\n"
        + "13800000009,C002,李四,女,,,,\n"
        + "13800000003,C009,王五,,,,,M9\n"
        + "13800000008,C004,赵六,X,,,,\n",  # bad on its own: reported for that, not the clash
    )
    assert job.status == Job.Status.FAILED
    assert Member.objects.count() == 2
    assert _errors(imp) == {
        3: "手机号13800000009已是会员",
        4: "会员卡号C009已存在；会员IDM9已存在",
        5: "性别“X”不正确，应为男/女",
    }


def test_an_all_good_file_of_thousands_imports_exactly(operator, monkeypatch):
    monkeypatch.setattr(services, "IMPORT_CHUNK_ROWS", 1000)
    progress, looked = [], []
    monkeypatch.setattr(
        jobs, "set_progress", lambda job, done, total=None: progress.append((done, total))
    )
    monkeypatch.setattr(jobs, "raise_if_cancelled", lambda job: looked.append(job.pk))
    earlier = MemberFactory()
    rows = _good_rows(3500)
    rows.insert(1000, "")  # a blank line: skipped, yet counted in the row numbers
    job, imp = _run_import(operator, FULL_HEADER + "\n".join(rows) + "\n")
    assert job.status == Job.Status.SUCCEEDED
    assert (imp.total_rows, imp.imported, imp.errors) == (3500, 3500, [])
    assert job.result == {"imported": 3500}
    # inside the one transaction a cancel is looked for after each chunk; progress at the end
    assert len(looked) == 4 and progress == [(3500, 3500)]
    members = list(Member.objects.filter(source=Member.Source.IMPORT).order_by("id"))
    base = earlier.pk + 10001
    assert [m.member_no for m in members] == [
        f"N{i}" if i % 3 == 0 else f"I{base + i}" for i in range(3500)
    ]
    assert [m.phone for m in members] == [f"137{i:08d}" for i in range(3500)]
    first, second = members[0], members[1]
    assert (first.card_no, first.name, first.gender, first.level) == (
        "K000000",
        "会员0",
        "M",
        "金卡",
    )
    assert str(first.birthday) == "1990-01-02" and first.registration_store.code == "380"
    assert second.gender == "F" and not second.real_name_verified and second.stored_value == 0
    assert AuditEntry.objects.filter(action="members.import").get().after == {"count": 3500}


def test_one_bad_row_in_the_middle_writes_nothing(operator, monkeypatch):
    monkeypatch.setattr(services, "IMPORT_CHUNK_ROWS", 1000)
    rows = _good_rows(3000)
    rows[1500] = rows[1500].replace("1990-01-02", "1990-02-30")
    job, imp = _run_import(operator, FULL_HEADER + "\n".join(rows) + "\n")
    assert job.status == Job.Status.FAILED
    assert Member.objects.count() == 0
    assert not AuditEntry.objects.filter(action="members.import").exists()
    assert imp.errors == [{"row": 1502, "error": "生日“1990-02-30”不是有效日期（如1990-05-01）"}]
    assert (imp.total_rows, imp.imported) == (3000, 0)
    assert (job.done, job.total) == (0, 3000)
    assert (
        job.error
        == "1行有错误，未导入任何会员：第1502行：生日“1990-02-30”不是有效日期（如1990-05-01）"
    )


def test_a_rerun_after_success_writes_nothing_more(operator, django_capture_on_commit_callbacks):
    job, imp = _run_import(operator, FULL_HEADER + "\n".join(_good_rows(50)) + "\n")
    assert job.status == Job.Status.SUCCEEDED and imp.imported == 50
    # the worker died after the commit, before it marked the job done
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        rerun_job(job=Job.objects.get(pk=job.pk), actor=operator)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert Member.objects.count() == 50
    assert AuditEntry.objects.filter(action="members.import").count() == 1


def test_many_bad_rows_are_counted_and_the_first_ones_kept(operator):
    rows = [f"1380000{i:04d},C{i:05d},,X,,,," for i in range(6000)]
    job, imp = _run_import(operator, FULL_HEADER + "\n".join(rows) + "\n")
    assert len(imp.errors) == 5000 and imp.errors[0]["row"] == 2 and imp.errors[-1]["row"] == 5001
    assert len(job.result["errors"]) == 200
    assert job.error.startswith("6000行有错误，未导入任何会员：第2行：性别“X”不正确")


def test_a_file_refused_while_it_is_read_writes_nothing(operator, monkeypatch):
    monkeypatch.setattr(jobs, "read_rows", functools.partial(read_rows, max_rows=100))
    monkeypatch.setattr(services, "IMPORT_CHUNK_ROWS", 30)
    job, imp = _run_import(operator, FULL_HEADER + "\n".join(_good_rows(150)) + "\n")
    assert job.status == Job.Status.FAILED and job.error == "超过100行上限"
    assert imp.errors == [{"row": 0, "error": "超过100行上限"}]
    assert Member.objects.count() == 0


def test_a_cancelled_import_stops_and_writes_nothing(operator):
    job = Job.objects.create(kind="members.import", title="m", owner=operator)
    imp = MemberImport(created_by=operator, original_name="m.csv", job=job)
    imp.file.save("m.csv", ContentFile((FULL_HEADER + _good_rows(5)[0]).encode()), save=False)
    imp.save()
    job.status = Job.Status.CANCELLED  # cancelled while the worker runs it
    Job.objects.filter(pk=job.pk).update(status=job.status)
    with pytest.raises(JobCancelled):
        jobs.import_members(job)
    assert Member.objects.count() == 0


def test_a_utf16_file_with_a_nul_is_refused_in_chinese(
    client, operator, django_capture_on_commit_callbacks
):
    # Excel's "Unicode text" (UTF-16) can carry a NUL that PostgreSQL cannot store; the import
    # refuses the file by row, writes nothing, and the job fails cleanly (it used to crash at COPY)
    data = (HEADER + "13800000001,C001,张\x00三,男,,,\n").encode("utf-16")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:import"), {"file": SimpleUploadedFile("m.csv", data)})
    job = Job.objects.get(kind="members.import")
    assert job.status == Job.Status.FAILED
    assert Member.objects.count() == 0
    message = job.error + str(MemberImport.objects.get().errors)
    assert "第2行含有空字符" in message


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(300):  # 300 MB of zeros, about 1 MB compressed
                member.write(b"\0" * (1 << 20))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, data, why",
    [
        ("members.xlsx", HEADER.encode(), "文件内容与扩展名不符"),
        ("members.xlsx", b"zip-bomb", "压缩炸弹"),
        ("members.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "文件内容与扩展名不符"),
        ("members.csv", "手机号\n张三\n".encode("utf-16-le"), "文件内容与扩展名不符"),
        ("m.csv", "手机号\n张\udc80三\n".encode("utf-16", "surrogatepass"), "无法识别文件编码"),
    ],
)
def test_a_hostile_file_is_refused_on_the_form_and_nothing_is_stored(
    client, operator, django_capture_on_commit_callbacks, name, data, why
):
    # a file that cannot be read at all (not what its name says, a zip bomb, binary) is refused
    # where it arrives, naming the field; no import record, job or stored upload is left behind
    if data == b"zip-bomb":
        data = _zip_bomb()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("members:import"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert why in response.content.decode()
    assert not Job.objects.exists() and not MemberImport.objects.exists()


def test_values_longer_than_a_member_holds_are_refused_by_row(operator):
    # a member ID over 20 characters used to stop the job at INSERT (value too long); a long
    # name or level was cut silently. Each is refused naming the column, echoing a short prefix
    job, imp = _run_import(
        operator,
        FULL_HEADER
        + "13800000001,C001,张三,男,,,,"
        + "N" * 100
        + "\n"
        + "13800000002,C002,"
        + "李" * 51
        + ",女,,"
        + "金" * 21
        + ",,\n"
        + "13800000003,C003,王五,"
        + "X" * 5000
        + ",,,,\n",
    )
    assert job.status == Job.Status.FAILED and Member.objects.count() == 0
    errors = _errors(imp)
    assert "会员ID过长（最多20个字符）" in errors[2]
    assert "姓名过长（最多50个字）" in errors[3] and "会员等级过长（最多20个字）" in errors[3]
    assert "性别“XXXXXXXXXXXXXXXXXXXX…”不正确" in errors[4] and len(errors[4]) < 100


def test_a_file_of_only_a_header_is_refused(operator):
    job, imp = _run_import(operator, FULL_HEADER)
    assert job.status == Job.Status.FAILED
    assert _errors(imp) == {1: "文件中只有表头，没有会员数据"}
