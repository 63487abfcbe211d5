"""/api/v1/: the JSON API (README, "API"). The schema and its browsable docs are public; every
other route authenticates (api.authentication)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.problems import not_found_view
from api.views import deliveries, directory, problems

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("problems", problems.ProblemTypeList.as_view(), name="problem-types"),
    path("problems/<slug:slug>", problems.ProblemTypeDetail.as_view(), name="problem-type"),
    path("units", directory.UnitList.as_view(), name="units"),
    path("recipient-groups", directory.RecipientGroupList.as_view(), name="recipient-groups"),
    path("deliveries/<int:pk>/sign-for", deliveries.DeliverySignFor.as_view(), name="delivery-sign-for"),
    # Last: any other path under /api/v1/ is a problem+json 404, not the pages' HTML one.
    re_path(r"^.*$", not_found_view, name="not-found"),
]
