"""Channels (发放渠道) and the departments that own them."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from couponhub.core.audit import record_audit, snapshot
from promocodes.models import Channel, Department


@transaction.atomic
def create_channel(*, actor, name: str, prefix: str, department: Department) -> Channel:
    prefix = prefix.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,10}", prefix):
        raise ValidationError({"prefix": "优惠码前缀只能是1到10位大写字母或数字"})
    if Channel.objects.filter(prefix=prefix).exists():
        raise ValidationError({"prefix": f"优惠码前缀{prefix}已被其他渠道使用"})
    if Channel.objects.filter(name=name).exists():
        raise ValidationError({"name": f"渠道名称{name}已存在"})
    channel = Channel.objects.create(
        name=name, prefix=prefix, department=department, created_by=actor
    )
    record_audit(
        actor=actor, action="promocodes.channel_create", obj=channel, after=snapshot(channel)
    )
    return channel


@transaction.atomic
def change_channel_status(*, actor, channel: Channel, action: str) -> Channel:
    """enable: 初始/禁用 → 启用; disable: 启用 → 禁用."""
    sources, target = Channel.TRANSITIONS[action]
    updated = Channel.objects.filter(pk=channel.pk, status__in=sources).update(status=target)
    if not updated:
        raise ValidationError(f"渠道当前状态为{channel.get_status_display()}，不能执行此操作")
    before = channel.status
    channel.refresh_from_db()
    record_audit(
        actor=actor,
        action=f"promocodes.channel_{action}",
        obj=channel,
        before={"status": before},
        after={"status": channel.status},
    )
    return channel


@transaction.atomic
def create_department(*, actor, name: str, code: str) -> Department:
    code = code.strip().upper()
    if Department.objects.filter(code=code).exists():
        raise ValidationError({"code": f"部门编码{code}已存在"})
    if Department.objects.filter(name=name).exists():
        raise ValidationError({"name": f"部门名称{name}已存在"})
    department = Department.objects.create(name=name, code=code)
    record_audit(
        actor=actor,
        action="promocodes.department_create",
        obj=department,
        after=snapshot(department),
    )
    return department
