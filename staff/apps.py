from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "staff and stores"
