from django.urls import path

from pickup import views

app_name = "pickup"
urlpatterns = [
    path("", views.code_list, name="code_list"),
    path("settings/", views.settings_page, name="settings"),
    path("sms/", views.sms_page, name="sms"),
    path("log/", views.operation_log, name="operation_log"),
    path("codes/<int:pk>/", views.code_detail, name="code_detail"),
    path("codes/<int:pk>/qr.<str:fmt>", views.code_qr, name="code_qr"),
    path("codes/generate/", views.generate, name="generate"),
    path("codes/batch/", views.batch_action, name="batch_action"),
    path("codes/import/", views.import_codes, name="import"),
    path("codes/import/<int:pk>/<str:which>/", views.import_file, name="import_file"),
    path("codes/export/", views.export_codes, name="export"),
    path("c/<str:code>/", views.consumer_code, name="consumer_code"),
    *[
        path(f"m/{name}/", views.entity_list, {"entity": name}, name=f"{name}_list")
        for name in views.ENTITIES
    ],
    path("m/<str:entity>/", views.entity_list, name="entity_list"),
    path("m/<str:entity>/add/", views.entity_edit, name="entity_add"),
    path("m/<str:entity>/<int:pk>/", views.entity_edit, name="entity_edit"),
    path("m/<str:entity>/<int:pk>/delete/", views.entity_delete, name="entity_delete"),
    path("m/<str:entity>/<int:pk>/copy/", views.entity_copy, name="entity_copy"),
]
