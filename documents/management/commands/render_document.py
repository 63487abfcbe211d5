"""render_document NUMBER --pdf OUT.pdf | --ofd OUT.ofd | --html OUT.html

Prints the document with this number (发文字号) in the GB/T 9704 layout: the cover letter, then each
document it encloses from a new page. The PDF is PDF/A-2b; the OFD (GB/T 33190) holds the same
pages. A command run by an operator on the server: it reads any document (the operator has the
database anyway); pages go through workflow.access instead.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from documents.models import Document
from documents.numbering import parse_number
from documents.ofd import FontNotInstalled, write_ofd
from documents.rendering import print_pdf, render_html
from units.errors import DomainError


class Command(BaseCommand):
    help = "Render the document with this number (发文字号) in the official layout, as PDF, OFD and/or HTML."

    def add_arguments(self, parser):
        parser.add_argument("number", help="e.g. 内组电明字〔2022〕11号")
        parser.add_argument("--pdf", metavar="OUT.pdf", help="write an A4 PDF here")
        parser.add_argument("--ofd", metavar="OUT.ofd", help="write the same pages as OFD (GB/T 33190) here")
        parser.add_argument("--html", metavar="OUT.html", help="write a standalone HTML page here")

    def handle(self, *args, number, pdf, ofd, html, **options):
        if not pdf and not ofd and not html:
            raise CommandError("请用 --pdf 文件、--ofd 文件 或 --html 文件 指明输出到哪里。")
        try:
            parsed = parse_number(number)
        except DomainError as error:
            raise CommandError(str(error)) from error
        document = (
            Document.objects.select_related("issuing_unit")
            .filter(number_prefix=parsed.prefix, number_year=parsed.year, number_serial=parsed.serial)
            .first()
        )
        if document is None:
            raise CommandError(f"没有发文字号为 {parsed} 的公文。")
        if pdf:
            printed = print_pdf(document)
            Path(pdf).write_bytes(printed.data)
            pages = printed.page_counts
            self.stdout.write(f"{pdf}：{sum(pages)} 页（{'、'.join(str(count) for count in pages)}）")
        if ofd:
            try:
                Path(ofd).write_bytes(write_ofd(document))
            except FontNotInstalled as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"{ofd}")
        if html:
            Path(html).write_text(render_html(document), encoding="utf-8")
            self.stdout.write(f"{html}")
