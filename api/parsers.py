"""Multipart bodies under the project's upload limit (web.uploads): past it, 413 too-large."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers

from api.problems import RequestTooLarge
from documents.attachments import human_size
from web.uploads import UploadTooLarge


class MultiPartParser(parsers.MultiPartParser):
    """DRF's, except that the upload limit's refusal is a 413 problem, not a 400 parse error. The
    limit itself is counted by web.uploads.UploadLimitHandler (FILE_UPLOAD_HANDLERS), as for pages."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except parsers.ParseError as error:
            if isinstance(error.__context__, UploadTooLarge):
                limit = error.__context__.limit
                raise RequestTooLarge(
                    _("本次提交的文件合计超过上限 %(limit)s（每个文件不超过 %(file_limit)s），没有保存任何内容。")
                    % {"limit": human_size(limit), "file_limit": human_size(settings.ATTACHMENT_MAX_BYTES)}
                ) from None
            raise
