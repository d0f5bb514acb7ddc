from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self):
        from api.security import connect_client_cache_signals

        connect_client_cache_signals()
