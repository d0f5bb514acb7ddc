import psycopg
import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from couponhub.core import jobs
from couponhub.core.audit import record_audit
from couponhub.core.exports import start_audit_export
from couponhub.core.models import AuditEntry, Job
from couponhub.local_postgres import database_url
from tests.factories import OrgFactory, Role, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

TICKS = "tests.write_ticks"


class WorkerDied(RuntimeError):
    pass


@jobs.job_runner(TICKS)
def write_ticks(job: Job) -> None:
    """Writes one audit entry per number; resumes from what is already written."""
    n, die_after = job.params["n"], job.params.get("die_after")
    done = set(
        AuditEntry.objects.filter(action=TICKS, object_type=f"job{job.pk}").values_list(
            "object_id", flat=True
        )
    )
    jobs.set_progress(job, len(done), n)
    for i in range(n):
        if str(i) in done:
            continue
        if die_after is not None and job.attempts == 1 and len(done) >= die_after:
            raise WorkerDied("killed")
        record_audit(actor=None, action=TICKS, object_type=f"job{job.pk}", object_id=str(i))
        done.add(str(i))
        jobs.set_progress(job, len(done))


def _ticks(job):
    return sorted(
        int(i)
        for i in AuditEntry.objects.filter(action=TICKS, object_type=f"job{job.pk}").values_list(
            "object_id", flat=True
        )
    )


def test_a_job_runs_to_the_end_with_progress(django_capture_on_commit_callbacks):
    owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue_job(kind=TICKS, title="t", owner=owner, params={"n": 7})
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.done, job.total, job.percent) == (7, 7, 100)
    assert _ticks(job) == list(range(7))


def test_a_job_that_died_midway_reruns_to_the_exact_result(django_capture_on_commit_callbacks):
    owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue_job(kind=TICKS, title="t", owner=owner, params={"n": 10, "die_after": 4})
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error and "killed" not in job.error  # no leak
    assert _ticks(job) == [0, 1, 2, 3]
    with django_capture_on_commit_callbacks(execute=True):
        jobs.rerun_job(job=job, actor=owner)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2
    assert _ticks(job) == list(range(10))


@pytest.fixture
def other_session():
    """A second database session, standing for another worker process."""
    with psycopg.connect(database_url(connection.settings_dict), autocommit=True) as conn:
        yield conn


def _hold(session, job):
    session.execute("SELECT pg_advisory_lock(%s, %s)", [jobs._LOCK_SPACE, job.pk])


def test_a_job_run_by_a_live_worker_is_not_run_again(other_session):
    job = Job.objects.create(kind=TICKS, title="t", status=Job.Status.RUNNING, params={"n": 3})
    _hold(other_session, job)  # the worker running it is alive
    assert jobs.run_job(job.pk) is None  # a second delivery of its message does nothing
    assert jobs.recover_orphaned_jobs() == []
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and _ticks(job) == []


def test_a_running_job_whose_worker_died_is_queued_again_and_finishes(
    django_capture_on_commit_callbacks,
):
    owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue_job(kind=TICKS, title="t", owner=owner, params={"n": 6, "die_after": 2})
    # as if the worker had been killed: running, two ticks written, nobody holding the job
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, error="", finished_at=None)
    assert _ticks(job) == [0, 1]
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.recover_orphaned_jobs() == [job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2 and job.worker
    assert _ticks(job) == list(range(6))


def test_a_job_whose_workers_keep_dying_is_failed_not_queued_forever():
    job = Job.objects.create(
        kind=TICKS, title="t", status=Job.Status.RUNNING, attempts=jobs.MAX_ATTEMPTS
    )
    assert jobs.recover_orphaned_jobs() == []
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.can_rerun


def test_jobs_go_to_the_queue_their_runner_names():
    assert jobs.queue_for(TICKS) == jobs.BULK
    assert jobs.queue_for("pickup.generate_codes") == jobs.BULK
    with pytest.raises(ValueError):
        jobs.job_runner("tests.nowhere", queue="fast")


def test_a_cancelled_job_stops_at_its_next_progress_report():
    job = Job.objects.create(kind=TICKS, title="t", status=Job.Status.CANCELLED)
    with pytest.raises(jobs.JobCancelled):
        jobs.set_progress(job, 1)


def test_job_pages_belong_to_their_owner(client):
    owner, other = UserFactory(), UserFactory()
    job = Job.objects.create(kind=TICKS, title="导出", owner=owner, total=4, done=1)
    client.force_login(other)
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("core:job_status", args=[job.pk])).status_code == 404
    client.force_login(owner)
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 200
    status = client.get(reverse("core:job_status", args=[job.pk])).json()
    assert (status["done"], status["total"], status["percent"]) == (1, 4, 25)
    downloads = client.get(reverse("core:downloads")).content.decode()
    assert "导出" in downloads


def test_the_audit_export_writes_the_filtered_entries_to_xlsx(
    client, django_capture_on_commit_callbacks
):
    admin = user_with_role(Role.ADMIN, OrgFactory())
    record_audit(actor=admin, action="coupons.rule_approve", object_repr="=HYPERLINK(1)")
    record_audit(actor=admin, action="other.thing")
    with django_capture_on_commit_callbacks(execute=True):
        job = start_audit_export(actor=admin, query={"action": "coupons.rule_approve"})
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    client.force_login(admin)
    response = client.get(reverse("core:job_download", args=[job.pk]))
    assert response.status_code == 200
    # a Chinese file name, sent as RFC 5987 filename*
    assert job.result_file.name.rsplit("/", 1)[-1].startswith("审计日志-")
    assert (
        "filename*=utf-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97" in response["Content-Disposition"]
    )
    book = load_workbook(job.result_file.path, read_only=True)
    assert book.sheetnames == ["审计日志"]
    rows = list(book.active.values)
    assert len(rows) == 2  # header + the one matching entry
    assert rows[1][2] == "审核券注册发行规则"
    assert rows[1][5] == "'=HYPERLINK(1)"


def test_a_job_page_names_its_outcome_and_row_errors_in_chinese(client):
    owner = UserFactory()
    gift = Job.objects.create(kind=TICKS, title="赠券", owner=owner, result={"gifted": 3})
    refused = Job.objects.create(
        kind=TICKS,
        title="赠券",
        owner=owner,
        status=Job.Status.FAILED,
        error="名单中有1行无法识别会员，未发放任何券",
        result={"errors": [{"row": 2, "value": "13800000000", "error": "会员不存在"}]},
    )
    client.force_login(owner)
    page = client.get(reverse("core:job_detail", args=[gift.pk])).content.decode()
    assert "已赠送张数" in page and "gifted" not in page
    page = client.get(reverse("core:job_detail", args=[refused.pk])).content.decode()
    assert "第2行（13800000000）：会员不存在" in page
    assert "{&#x27;row&#x27;" not in page and "'row'" not in page and "errors" not in page
