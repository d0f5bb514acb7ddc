app_name = "redemption"
urlpatterns: list = []
