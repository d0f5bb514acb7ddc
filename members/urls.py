from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("import/", views.member_import, name="import"),
    path("tags/", views.tag_list, name="tags"),
    path("tags/apply/", views.tag_apply, name="tag_apply"),
    path("tags/<int:pk>/", views.tag_detail, name="tag_detail"),
    path("tags/<int:pk>/upload/", views.tag_upload, name="tag_upload"),
    path("tags/<int:pk>/delete/", views.tag_delete, name="tag_delete"),
]
