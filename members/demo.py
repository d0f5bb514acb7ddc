"""Demo members with orders, points and U-value (idempotent)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from couponhub.core.models import Org
from members import services
from members.models import Member

DEMO_MEMBERS = [
    # phone, card, member no, name, gender, birthday, level, store code
    ("17700000516", "5500199339", "10001", "薛定谔的猫", "M", "2017-09-21", "钻石级", "380"),
    ("17500008870", "5500198870", "10002", "那你能", "F", "1988-03-02", "金卡", "201"),
    ("13900000001", "5500100001", "10003", "王小燕", "F", "1992-07-15", "银卡", "380"),
    ("13900000002", "5500100002", "10004", "李建国", "M", "1975-01-30", "普通", "205"),
    ("13900000003", "5500100003", "10005", "张思远", "M", "2000-11-11", "金卡", "501"),
]
PRODUCTS = [
    ("6901234500011", "六味地黄丸", "中成药", Decimal("32.00")),
    ("6901234500028", "安宫牛黄丸", "中成药", Decimal("860.00")),
    ("6901234500035", "西洋参片", "滋补品", Decimal("128.00")),
    ("6901234500042", "煎药费", "服务", Decimal("5.00")),
    ("6901234500059", "枸杞子", "中药饮片", Decimal("45.50")),
]


def seed(out) -> None:
    if Member.objects.filter(phone=DEMO_MEMBERS[0][0]).exists():
        return
    stores = {o.code: o for o in Org.objects.filter(kind=Org.Kind.STORE)}
    now = timezone.now()
    for i, (phone, card, no, name, gender, birthday, level, store_code) in enumerate(DEMO_MEMBERS):
        member = services.register_member(
            actor=None,
            phone=phone,
            card_no=card,
            member_no=no,
            name=name,
            gender=gender,
            birthday=datetime.date.fromisoformat(birthday),
            level=level,
            registration_store=stores.get(store_code),
            registered_at=now - datetime.timedelta(days=400 - i),
        )
        services.change_points(member=member, delta=5 + i * 100, reason="消费积分")
        services.change_u_value(member=member, delta=50000 - i * 5000, reason="开卡赠送U享值")
        services.change_u_value(member=member, delta=-2000, reason="积分商城兑换")
        services.credit_stored_value(member=member, amount="200.00", reason="储值")
        store = stores.get(store_code) or next(iter(stores.values()))
        for n in range(6 if i == 0 else 2):
            items = [
                services.OrderItemData(
                    sku=s, name=nm, category=c, qty=Decimal(1 + (n % 2)), amount=p
                )
                for s, nm, c, p in PRODUCTS[n % 3 : n % 3 + 2 + (n % 2)]
            ]
            services.record_order(
                actor=None,
                order_no=f"{19315 - n * 30 - i * 7}:194501",
                store=store,
                traded_at=now - datetime.timedelta(days=n * 9 + i, hours=2),
                total=sum(it.amount * it.qty for it in items),
                items=items,
                member=member,
            )
    out.write(f"  members: {len(DEMO_MEMBERS)} demo members (e.g. 17700000516 at store 380)")
