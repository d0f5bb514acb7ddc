from django.urls import path

from api import views

app_name = "api"
urlpatterns = [
    path("clients/", views.client_list, name="clients"),
]
