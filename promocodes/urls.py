app_name = "promocodes"
urlpatterns: list = []
