"""Factories of the core domain; each app's tests add their own in tests/<app>/factories.py."""

import factory

from couponhub.core.models import Org, RoleAssignment, User

Role = RoleAssignment.Role


class OrgFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Org

    kind = Org.Kind.GROUP
    name = factory.Sequence(lambda n: f"组织{n}")
    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    parent = None


class RegionFactory(OrgFactory):
    kind = Org.Kind.REGION
    parent = factory.SubFactory(OrgFactory)


class StoreFactory(OrgFactory):
    kind = Org.Kind.STORE
    name = factory.Sequence(lambda n: f"测试门店{n}")
    # six digits: never the three-digit codes tests set by hand ("380", "201", "283")
    code = factory.Sequence(lambda n: f"{100000 + n}")
    parent = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-123456")


def user_with_role(role: str, org: Org, **kwargs) -> User:
    user = UserFactory(**kwargs)
    RoleAssignment.objects.create(user=user, role=role, org=org)
    return user
