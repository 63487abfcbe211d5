"""全文检索: the search page. One selector (workflow.search.document_search) does the work; results
link to the document page, which opens it through its own door."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.routers import reads_from_replica
from units.models import Unit
from web.forms import SearchForm
from workflow.search import SearchFilters, SearchPage, document_search


@login_required
@require_GET
@reads_from_replica
def search(request):
    form = SearchForm(request.GET or None)
    page = SearchPage(query="")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        issuer_id = None
        if data["issuer"].strip():
            # One unit's name as the directory spells it; a name no unit has finds nothing.
            issuer_id = Unit.objects.filter(name=data["issuer"].strip()).values_list("pk", flat=True).first()
            if issuer_id is None:
                form.add_error("issuer", _("没有名为“%(name)s”的单位。") % {"name": data["issuer"].strip()})
        if not form.errors:
            filters = SearchFilters(
                kind=data["kind"],
                urgency=data["urgency"],
                issuer_id=issuer_id,
                date_from=data["date_from"],
                date_to=data["date_to"],
                state=data["state"],
            )
            page = document_search(request.user, data["q"], filters, cursor=request.GET.get("after"))
    return render(
        request,
        "web/search.html",
        {"active": "search", "form": form, "page": page, "first_page": not request.GET.get("after")},
    )
