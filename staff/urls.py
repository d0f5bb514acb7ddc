from django.urls import path

from staff import views

app_name = "staff"
urlpatterns = [
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/import/", views.user_import, name="user_import"),
    path("users/import/template.xlsx", views.import_template, name="import_template"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", views.role_grant, name="role_grant"),
    path(
        "users/<int:pk>/roles/<int:assignment_pk>/revoke/",
        views.role_revoke,
        name="role_revoke",
    ),
    path(
        "users/<int:pk>/<slug:action>/",
        views.user_action,
        name="user_action",
    ),
    path(
        "password-link/<uidb64>/<token>/",
        views.password_link,
        name="password_link",
    ),
    path("orgs/", views.org_tree, name="org_tree"),
    path("orgs/new/", views.org_add, name="org_add"),
    path("orgs/<int:pk>/edit/", views.org_edit, name="org_edit"),
    path("orgs/<int:pk>/move/", views.org_move, name="org_move"),
    path("orgs/<int:pk>/<slug:action>/", views.org_open_close, name="org_open_close"),
]
