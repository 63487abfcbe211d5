"""One request's files together may not pass UPLOAD_MAX_REQUEST_BYTES.

Django bounds a request's form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) and the number of its files, not
the bytes of those files; FILE_UPLOAD_MAX_MEMORY_SIZE only decides between memory and a temporary
file. `UploadLimitHandler` (first in FILE_UPLOAD_HANDLERS) counts the bytes of every file of the
request as they arrive and stops the upload past the limit; it refuses at once, reading nothing,
when the request's Content-Length already says more than the limit and the most the fields may add.

It stops the upload by raising `UploadTooLarge`, not Django's StopUpload: StopUpload leaves the
request with the fields and files read so far, so a view would see a form without its last files and
could save it. `UploadTooLarge` is a MultiPartParserError, so Django marks the request's POST and
FILES as unreadable and never parses them again. `UploadLimitMiddleware` (before CSRF, whose check
is the first to read the form) reads the form before any view and answers 413 with a page naming the
limit; if anything read the form before it, Django answers 400. Either way no view runs on it.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from documents.attachments import human_size


class UploadTooLarge(MultiPartParserError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The files of this request exceed UPLOAD_MAX_REQUEST_BYTES ({limit}).")
        self.limit = limit


class UploadLimitHandler(FileUploadHandler):
    """Counts the bytes of all the files of one request; passes every chunk on unchanged."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = settings.UPLOAD_MAX_REQUEST_BYTES
        self.received = 0
        self.input_data = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803 (Django's name)
        # The fields may add at most DATA_UPLOAD_MAX_MEMORY_SIZE (Django refuses more): a body longer
        # than the files' limit and that cannot be a request we would accept, so nothing of it is read.
        fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        if content_length > self.limit + fields:
            raise UploadTooLarge(self.limit)
        self.input_data = input_data
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self._abandon()
            raise UploadTooLarge(self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers keep the file

    def _abandon(self) -> None:
        # The temporary file being written is removed now, not when it is garbage-collected (Django
        # closes the files already complete itself). Then the rest of the body is read and dropped,
        # so that the browser, still sending, gets the answer rather than a reset connection: the
        # check on Content-Length above bounds that rest by the most the fields may carry.
        for handler in self.request.upload_handlers if self.request is not None else ():
            file = getattr(handler, "file", None)
            if file is not None:
                file.close()
        if self.input_data is not None:
            while self.input_data.read(64 * 1024):
                pass


class UploadLimitMiddleware(MiddlewareMixin):
    """Reads a multipart form before any view (and before CSRF's check): past the limit, the 413 page."""

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.method != "POST" or request.content_type != "multipart/form-data":
            return None
        if getattr(view_func, "reads_own_uploads", False):
            return None  # the JSON API: its parser counts with the same handler and answers in JSON
        try:
            request.FILES  # noqa: B018 -- parsing the form is the point
        except UploadTooLarge as refusal:
            return upload_too_large(request, refusal.limit)
        return None


def upload_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    referer = request.headers.get("referer", "")
    safe = url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=request.is_secure())
    message = _(
        "本次提交的文件合计超过上限 %(limit)s（每个文件不超过 %(file_limit)s），没有保存任何内容。"
        "请减少或压缩附件后重新提交。"
    ) % {"limit": human_size(limit), "file_limit": human_size(settings.ATTACHMENT_MAX_BYTES)}
    return render(
        request,
        "web/upload_too_large.html",
        {"message": message, "back": referer if referer and safe else reverse("inbox")},
        status=413,
    )
