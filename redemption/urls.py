from django.urls import path

from redemption import views

app_name = "redemption"
urlpatterns = [
    path("start/", views.start, name="start"),
    path("verify/<int:pk>/", views.verify, name="verify"),
    path("<int:pk>/link/", views.link, name="link"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("records/", views.records, name="records"),
    path("lines/<int:pk>/return/", views.return_line, name="return_line"),
]
