import factory

from api.models import ApiClient
from tests.factories import StoreFactory

SECRET = "test-secret-0123456789"


class ApiClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiClient

    name = factory.Sequence(lambda n: f"POS{n}")
    client_id = factory.Sequence(lambda n: f"ck_test{n:04d}")
    secret = SECRET
    store = factory.SubFactory(StoreFactory)
