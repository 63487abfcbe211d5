from django.contrib import admin
from django.urls import path

from workflow import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/deliveries/<int:delivery_id>/sign-for", api.delivery_sign_for_view, name="api-delivery-sign-for"),
]
