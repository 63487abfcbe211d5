"""render_document NUMBER --pdf OUT.pdf | --html OUT.html

Prints the document with this number (发文字号) in the GB/T 9704 layout: the cover letter, then each
document it encloses from a new page. A command run by an operator on the server: it reads any
document (the operator has the database anyway); pages go through workflow.access instead.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from documents.models import Document
from documents.numbering import parse_number
from documents.rendering import print_pdf, render_html
from units.errors import DomainError


class Command(BaseCommand):
    help = "Render the document with this number (发文字号) in the official layout, as PDF and/or HTML."

    def add_arguments(self, parser):
        parser.add_argument("number", help="e.g. 内组电明字〔2022〕11号")
        parser.add_argument("--pdf", metavar="OUT.pdf", help="write an A4 PDF here")
        parser.add_argument("--html", metavar="OUT.html", help="write a standalone HTML page here")

    def handle(self, *args, number, pdf, html, **options):
        if not pdf and not html:
            raise CommandError("请用 --pdf 文件 或 --html 文件 指明输出到哪里。")
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
        if html:
            Path(html).write_text(render_html(document), encoding="utf-8")
            self.stdout.write(f"{html}")
