from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("categories/", views.category_list, name="categories"),
    path("categories/new/", views.category_edit, name="category_create"),
    path("categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
    path(
        "categories/<int:pk>/enabled/<int:enabled>/",
        views.category_enabled,
        name="category_enabled",
    ),
    path("", views.product_list, name="products"),
    path("new/", views.product_edit, name="product_create"),
    path("<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("<int:pk>/enabled/<int:enabled>/", views.product_enabled, name="product_enabled"),
    path("import/", views.product_import, name="import"),
    path("search/", views.product_search, name="search"),
]
