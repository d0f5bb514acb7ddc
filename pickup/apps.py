from django.apps import AppConfig


class PickupConfig(AppConfig):
    name = "pickup"
