from django.contrib import admin
from django.urls import include, path

from workflow import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/deliveries/<int:delivery_id>/sign-for", api.delivery_sign_for_view, name="api-delivery-sign-for"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
