from django.urls import path

from exchange import views

urlpatterns = [
    path("v1/consignments", views.consignments, name="exchange-consignments"),
    path("v1/receipts", views.receipts, name="exchange-receipts"),
    path("v1/recalls", views.recalls, name="exchange-recalls"),
    path("v1/reports", views.reports, name="exchange-reports"),
    path("v1/files/<str:sha256>", views.files, name="exchange-files"),
]
