import pytest

from tests.factories import OrgFactory, Role, StoreFactory, user_with_role


@pytest.fixture
def group():
    return OrgFactory(name="同仁堂健康集团")


@pytest.fixture
def operator(group):
    return user_with_role(Role.OPERATOR, group, username="op")


@pytest.fixture
def clerk():
    return user_with_role(Role.CLERK, StoreFactory(), username="clerk")


@pytest.fixture
def hq(group):
    return user_with_role(Role.HQ, group, username="hq")


@pytest.fixture
def op_client(client, operator):
    client.force_login(operator)
    return client
