from django.apps import AppConfig


class RedemptionConfig(AppConfig):
    name = "redemption"
