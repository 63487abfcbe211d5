"""收文登记 from a file: the clerk uploads what arrived, checks what the importer read beside its
findings, corrects it, and registers it (workflow.services.registration); and the original file,
kept with the registration.

The upload is read once to show the review form; the form carries the file as a signed token (the
file's SHA-256, its name, the unit and the clerk), and the file waits in storage under its digest,
where the registration keeps it. Confirming reads the file again from there, so what is registered
is what the file says plus exactly the corrections the clerk made, and nothing the browser sent can
stand in for the file.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents.importing import ParsedDocument, import_bytes
from documents.importing.corrections import corrected, reading
from documents.models import imported_original_path
from units.errors import DomainError, InvalidInput, NotFound
from units.models import Role, Unit
from units.selectors import unit_list_with_role
from web.forms import ReceivedFileForm, RegistrationReviewForm
from web.views.common import door
from workflow.access import access_imported_source, access_unit_for_registering
from workflow.services import SourceFile, document_register_received

_SIGNING_SALT = "web.receiving.file"
# How long a review form stays good: a clerk who leaves it overnight uploads the file again.
_TOKEN_AGE = datetime.timedelta(hours=12)


def _unit(request):
    """The unit to register for (?unit=, else the person's first), and all those they keep 登记 of."""
    units = list(unit_list_with_role(request.user, Role.CLERK).filter(is_active=True).order_by("path"))
    wanted = request.GET.get("unit") or request.POST.get("unit") or (units[0].pk if units else None)
    unit = next((u for u in units if str(u.pk) == str(wanted)), None)
    if unit is None:
        unit = access_unit_for_registering(request.user, wanted)  # NotFound: the door's answer
    return unit, units


@login_required
@require_http_methods(["GET", "POST"])
@door
def register_file(request):
    """Upload a received file; show what was read for review."""
    unit, units = _unit(request)
    form = ReceivedFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            parsed = import_bytes(data, name=upload.name)
        except InvalidInput as error:
            form.add_error("file", error.message)
        else:
            source = SourceFile.of(upload.name, data)
            source.kept()
            token = signing.dumps(
                {"sha256": source.sha256, "name": source.name, "unit": unit.pk, "user": request.user.pk},
                salt=_SIGNING_SALT,
            )
            review = RegistrationReviewForm(
                initial={"token": token, **reading(parsed)}, warnings=_warnings_by_field(parsed)
            )
            return _review(request, unit, review, parsed, source)
    status = 400 if form.errors else 200
    return render(
        request,
        "web/register_file.html",
        {"active": "inbox", "unit": unit, "units": units, "form": form},
        status=status,
    )


@login_required
@require_POST
@door
def register_file_confirm(request):
    """Register the reviewed file as received by the unit, with the clerk's corrections."""
    try:
        unit, source = _held_file(request)
    except signing.SignatureExpired:
        messages.error(request, _("登记表已过期，请重新上传来文文件。"))
        return redirect("register-file")
    parsed = import_bytes(source.data, name=source.name)  # the same bytes the review read
    form = RegistrationReviewForm(request.POST, warnings=_warnings_by_field(parsed))
    if form.is_valid():
        parsed_as_corrected, changes = corrected(parsed, form.values())
        try:
            registration = document_register_received(
                actor=request.user, unit=unit, parsed=parsed_as_corrected, source=source, corrections=changes
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            document = registration.document
            if registration.already_registered:
                messages.info(
                    request, _("%(number)s已送达本单位，无需重复登记，未作任何改动。") % {"number": document.number}
                )
            else:
                messages.success(
                    request,
                    _("已登记收文 %(number)s《%(title)s》，请签收。")
                    % {"number": document.number, "title": document.title},
                )
            return redirect("delivery", pk=registration.delivery.pk)
    return _review(request, unit, form, parsed, source, status=400)


def _held_file(request) -> tuple[Unit, SourceFile]:
    """The unit and file of the review form's token. NotFound when the token is forged or another
    person's, or the file is gone; SignatureExpired when it is old. The unit passes its door again."""
    missing = NotFound(_("登记表无效，请重新上传来文文件。"))
    try:
        held = signing.loads(request.POST.get("token", ""), salt=_SIGNING_SALT, max_age=_TOKEN_AGE)
    except signing.SignatureExpired:
        raise
    except signing.BadSignature:
        raise missing from None
    if held.get("user") != request.user.pk:
        raise missing
    unit = access_unit_for_registering(request.user, held.get("unit"))
    path = imported_original_path(held["sha256"])
    if not default_storage.exists(path):
        raise missing
    with default_storage.open(path, "rb") as stored:
        source = SourceFile.of(held["name"], stored.read())
    if source.sha256 != held["sha256"]:
        raise missing
    return unit, source


def _warnings_by_field(parsed: ParsedDocument) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for finding in parsed.findings:
        by_field.setdefault(finding.field or "", []).append(str(finding))
    return by_field


def _review(request, unit, form: RegistrationReviewForm, parsed: ParsedDocument, source: SourceFile, *, status=200):
    return render(
        request,
        "web/register_review.html",
        {
            "active": "inbox",
            "unit": unit,
            "form": form,
            "parsed": parsed,
            "source": source,
            "general_warnings": form.warnings.get("", []),
            "enclosed": list(parsed.enclosed),
        },
        status=status,
    )


@login_required
@require_GET
@door
def imported_original(request, pk: int):
    """The file a registration was read from, byte for byte, under its own name."""
    source = access_imported_source(request.user, pk)
    if not source.original:
        raise NotFound(_("这份来源文件登记时未保存原件。"))
    return FileResponse(
        source.original.open("rb"),
        as_attachment=True,
        filename=source.file_name.rsplit("/", 1)[-1],
        content_type=source.content_type or "application/octet-stream",
    )
