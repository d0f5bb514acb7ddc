"""Demo data of the core: an org tree and one user per role."""

from couponhub.core.models import Org, RoleAssignment, User
from couponhub.core.services import assign_role, create_org
from couponhub.core.sms import get_account, top_up_sms_account

DEMO_PASSWORD = "CouponHub-2026"
Role = RoleAssignment.Role

ORG_TREE = [
    (
        "region",
        "R-RETAIL",
        "零售",
        "G-TRT",
        [
            ("201", "北京同仁堂健康新世界百货崇文门店"),
            ("380", "蓝港店"),
            ("205", "西单大悦城店"),
        ],
    ),
    (
        "region",
        "R-FOOD",
        "餐饮",
        "G-TRT",
        [
            ("501", "聚食汇国贸店"),
            ("502", "聚食汇望京店"),
        ],
    ),
]

# username, role, org code, full name
USERS = [
    ("admin", Role.ADMIN, "G-TRT", "系统管理员"),
    ("clerk", Role.CLERK, "380", "潘丽娜"),
    ("clerk2", Role.CLERK, "501", "王小明"),
    ("manager", Role.STORE_MANAGER, "380", "李店长"),
    ("operator", Role.OPERATOR, "G-TRT", "赵运营"),
    ("finance", Role.FINANCE, "G-TRT", "钱财务"),
    ("hq", Role.HQ, "G-TRT", "孙总部"),
]


def _org(code: str, **create) -> Org:
    org = Org.objects.filter(code=code).first()
    return org or create_org(actor=None, code=code, **create)


def seed(out) -> None:
    group = _org("G-TRT", kind=Org.Kind.GROUP, name="同仁堂健康集团")
    for kind, code, name, _parent, stores in ORG_TREE:
        region = _org(code, kind=kind, name=name, parent=group)
        for store_code, store_name in stores:
            _org(store_code, kind=Org.Kind.STORE, name=store_name, parent=region)

    for username, role, org_code, full_name in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            # The admin role manages users and the org tree on our own pages (staff app);
            # Django's admin stays at its URL for superusers only.
            user = User.objects.create_user(
                username=username, password=DEMO_PASSWORD, first_name=full_name
            )
        assign_role(actor=None, user=user, role=role, org=Org.objects.get(code=org_code))
    # clerk2 also covers 502, so the store switch in the header has something to switch.
    assign_role(
        actor=None,
        user=User.objects.get(username="clerk2"),
        role=Role.CLERK,
        org=Org.objects.get(code="502"),
    )

    if get_account().balance == 0:
        top_up_sms_account(actor=None, amount="200.00", note="演示数据初始充值")

    out.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, org_code, _name in USERS:
        out.write(f"  {username:<9} {Role(role).label} @ {org_code}")
