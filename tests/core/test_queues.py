"""Several processes on one database, as production runs: a worker per queue, two workers on one
queue, a worker killed in the middle of a job. Real Celery worker processes (tests/conftest.py
`start_worker`) and web processes (gunicorn); elsewhere the test process stands for the web,
calling the services a request calls."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from couponhub.celery import app as celery_app
from couponhub.core import jobs
from couponhub.core.models import Job, SmsMessage
from couponhub.core.sms import deliver_sms_task, send_sms, top_up_sms_account
from couponhub.local_postgres import database_url
from pickup.models import PickupCode
from pickup.services import GENERATION_CHUNK_SIZE, GenerationSpec, create_code_batch
from redemption.services import start_sms_challenge
from tests.conftest import start_worker, stop_worker
from tests.coupons.factories import CouponFactory, CouponRuleFactory
from tests.factories import OrgFactory, RegionFactory, Role, StoreFactory, user_with_role
from tests.members.factories import MemberFactory
from tests.pickup.factories import CardTypeFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The console SMS backend prints one line per message it sends: counted in the workers' logs.
CONSOLE_SMS = {"SMS_BACKEND": "couponhub.core.sms_backends.ConsoleBackend"}


@pytest.fixture
def workers(tmp_path):
    """Start workers with `workers.start(name, queues, **env)`; all are stopped at the end."""
    started = []

    class Workers:
        def start(self, name, queues, env=None):
            proc = start_worker(tmp_path / f"{name}.log", queues=queues, name=name, env=env)
            started.append(proc)
            return proc

        def logs(self) -> str:
            text = ""
            for proc in started:
                proc.log.flush()
                with open(proc.log.name) as fh:
                    text += fh.read()
            return text

    celery_app.conf.task_always_eager = False
    try:
        yield Workers()
    finally:
        celery_app.conf.task_always_eager = True
        for proc in started:
            print(stop_worker(proc)[-2000:])


def _wait(condition, what, seconds=90, procs=()):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        for proc in procs:
            assert proc.poll() is None, f"a worker died while waiting for {what}"
        time.sleep(0.1)


def _counter_sms():
    store = StoreFactory(parent=RegionFactory())
    clerk = user_with_role(Role.CLERK, store)
    member = MemberFactory(phone="17700000777")
    coupon = CouponFactory(rule=CouponRuleFactory(usable_orgs=[store.parent]), member=member)
    top_up_sms_account(actor=None, amount=Decimal("10"))
    challenge = start_sms_challenge(member=member, store=store, coupon_ids=[coupon.pk], actor=clerk)
    return SmsMessage.objects.get(phone=challenge.phone, purpose="redeem_code")


def test_a_million_code_batch_on_the_bulk_worker_does_not_hold_up_an_sms_check(workers, client):
    bulk = workers.start("bulk", ["bulk"])
    interactive = workers.start("interactive", ["interactive"])
    operator = user_with_role(Role.OPERATOR, OrgFactory())
    # given a batch of 1,000,000 codes being generated on the bulk worker
    batch = create_code_batch(
        actor=operator, card_type=CardTypeFactory(), spec=GenerationSpec(quantity=1_000_000)
    )
    job = Job.objects.get(pk=batch.job_id)

    def generating():
        job.refresh_from_db()
        return job.status == Job.Status.RUNNING and job.done >= GENERATION_CHUNK_SIZE

    _wait(generating, "the generation to start", procs=[bulk, interactive])
    # when a clerk starts an SMS check
    message = _counter_sms()
    # then the code is sent while the batch is still being generated
    _wait(
        lambda: SmsMessage.objects.get(pk=message.pk).status == SmsMessage.Status.SENT,
        "the SMS",
        seconds=30,
        procs=[interactive],
    )
    # and the probes answer meanwhile: ready, and the batch counted as running
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    running = 'couponhub_jobs{kind="pickup.generate_codes",state="running"} 1.0'
    assert running in client.get("/metrics").content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.done < job.total, "the batch ended first"
    # (the rest of the batch is not needed: cancel it, the runner stops at its next chunk)
    jobs.cancel_job(job=job, actor=operator)
    assert PickupCode.objects.filter(batch=batch).count() < 1_000_000


@pytest.fixture
def webs(tmp_path):
    """Two web processes (gunicorn, one process each) on the test database."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    started = []
    for i in (1, 2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = open(tmp_path / f"web{i}.log", "w+")  # noqa: SIM115
        bind = f"127.0.0.1:{port}"
        proc = subprocess.Popen(
            # one process each (gunicorn.conf.py would start two per core)
            [sys.executable, "-m", "gunicorn", "couponhub.wsgi", "--workers=1", f"--bind={bind}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log, proc.url = log, f"http://127.0.0.1:{port}"
        started.append(proc)
    try:
        for proc in started:
            _wait(lambda p=proc: _answers(p.url + "/healthz"), "a web process", procs=[proc])
        yield started
    finally:
        for proc in started:
            proc.terminate()
            proc.wait(timeout=20)
            proc.log.close()


def _answers(url) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def _post_as(client, user, url):
    """POST as a logged-in user from outside (a session cookie and a CSRF token pair)."""
    client.force_login(user)
    csrf = "a" * 32
    request = urllib.request.Request(
        url,
        method="POST",
        data=b"",
        headers={
            "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Host": "127.0.0.1",
        },
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(request, timeout=30)
    except urllib.error.HTTPError as answer:  # the 302 to the job's page
        assert answer.code == 302, answer.read()[:500]


def test_two_web_processes_and_two_workers_run_every_job_once_and_send_every_sms_once(
    workers, webs, client
):
    env = CONSOLE_SMS
    one = workers.start("one", ["interactive", "bulk"], env)
    two = workers.start("two", ["interactive", "bulk"], env)
    admin = user_with_role(Role.ADMIN, OrgFactory())
    top_up_sms_account(actor=None, amount=Decimal("10"))
    # given ten jobs asked for on the two web processes in turn, and twenty SMS, each of them
    # then delivered twice by the broker
    for i in range(10):
        _post_as(client, admin, webs[i % 2].url + reverse("core:audit_log"))
    exports = list(Job.objects.all())
    assert len(exports) == 10
    messages = [send_sms(phone=f"1390000{i:04d}", text=f"通知{i}", purpose="t") for i in range(20)]
    for job in exports:
        jobs.run_job_task.apply_async((job.pk,), queue=jobs.queue_for(job.kind))
    for message in messages:
        deliver_sms_task.apply_async((message.pk,), queue="interactive")

    def all_done():
        return not Job.objects.filter(pk__in=[j.pk for j in exports], finished_at=None).exists()

    _wait(all_done, "the jobs", procs=[one, two])
    _wait(
        lambda: not SmsMessage.objects.filter(status=SmsMessage.Status.PENDING).exists(),
        "the SMS",
        procs=[one, two],
    )
    # then each job ran once and succeeded, and each SMS went out once
    for job in Job.objects.filter(pk__in=[j.pk for j in exports]):
        assert job.status == Job.Status.SUCCEEDED and job.attempts == 1, (job.pk, job.error)
    assert {j.worker.rsplit(":", 1)[1] for j in Job.objects.all()} <= {
        str(one.pid),
        str(two.pid),
    }
    sent = re.findall(r"\[短信\] (console-\w+) 发往(\d+)", workers.logs())
    assert sorted(phone for _, phone in sent) == sorted(m.phone for m in messages)
    assert SmsMessage.objects.filter(status=SmsMessage.Status.SENT).count() == 20


def test_a_worker_killed_mid_job_leaves_it_to_the_other_which_ends_it_exactly(workers):
    one = workers.start("one", ["bulk"])
    two = workers.start("two", ["bulk"])
    quantity = 10 * GENERATION_CHUNK_SIZE
    operator = user_with_role(Role.OPERATOR, OrgFactory())
    batch = create_code_batch(
        actor=operator, card_type=CardTypeFactory(), spec=GenerationSpec(quantity=quantity)
    )
    job = Job.objects.get(pk=batch.job_id)

    def started():
        job.refresh_from_db()
        return job.status == Job.Status.RUNNING and job.done >= GENERATION_CHUNK_SIZE

    _wait(started, "the generation to start", procs=[one, two])
    # when the worker running the job is killed outright
    running, other = (one, two) if job.worker.endswith(f":{one.pid}") else (two, one)
    assert job.worker.endswith(f":{running.pid}")
    running.send_signal(signal.SIGKILL)
    running.wait(timeout=20)
    stored = PickupCode.objects.filter(batch=batch).count()
    assert 0 < stored < quantity, "killed too late to tell"
    # then the job, left running by nobody, is queued again (what beat does every minute) …
    _wait(lambda: jobs.recover_orphaned_jobs() == [job.pk], "the dead worker's lock to go")
    # … and the other worker ends it with exactly the requested codes
    _wait(
        lambda: Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED,
        "the other worker to finish",
        seconds=180,
        procs=[other],
    )
    job.refresh_from_db()
    assert job.attempts == 2 and job.worker.endswith(f":{other.pid}") and job.done == quantity
    serials = list(PickupCode.objects.filter(batch=batch).values_list("serial", flat=True))
    assert sorted(serials) == list(range(batch.serial_start, batch.serial_start + quantity))
