from django.contrib import admin
from django.urls import include, path

from workflow.returns import return_notice

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("returns/<int:pk>/notice/", return_notice, name="return_notice"),
    path("", include("web.urls")),
]
