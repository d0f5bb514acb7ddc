import pytest
from django.urls import reverse

from tests.factories import Role, StoreFactory, user_with_role

pytestmark = pytest.mark.django_db


def test_it_redirects_anonymous_users_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_the_clerk_home_with_the_store_in_the_header(client):
    store = StoreFactory(name="蓝港店", code="380")
    clerk = user_with_role(Role.CLERK, store, username="lina_pan")
    client.force_login(clerk)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert f"蓝港店-{store.parent.name}-380" in response.content.decode()


def test_the_favicon_is_ours_and_the_api_docs_need_no_cdn(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert "http://" not in page and "https://" not in page
