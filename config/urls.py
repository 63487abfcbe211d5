from django.contrib import admin
from django.urls import path

from workflow.returns import return_notice

urlpatterns = [
    path("admin/", admin.site.urls),
    path("returns/<int:pk>/notice/", return_notice, name="return_notice"),
]
