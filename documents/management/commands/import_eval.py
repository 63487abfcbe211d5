"""import_eval DIR [--json]

How well the importer reads a corpus: DIR holds one folder per document, with its source file
(source.txt, source.docx, …) and expected.json, its fields written down by hand
(documents.importing.evaluation). Prints the accuracy per field and per document, and every field
the importer missed (left empty) or got wrong; --json prints the same as one JSON object.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from documents.importing.evaluation import SCORED_FIELDS, Evaluation, evaluate
from units.errors import InvalidInput

FIELD_NAMES = {
    "issuer": "发文机关",
    "number": "发文字号",
    "title": "标题",
    "main_recipients": "主送",
    "cc": "抄送",
    "forwarded_titles": "转发文件标题",
    "forwarded_numbers": "转发文件字号",
    "date": "成文日期",
    "signatory": "署名",
    "attachments": "附件数",
}


class Command(BaseCommand):
    help = "Score the importer on a folder of documents whose fields were written down by hand."

    def add_arguments(self, parser):
        parser.add_argument("folder", metavar="DIR", help="one folder per document: source.* and expected.json")
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    def handle(self, *args, folder: str, json: bool = False, **options):
        path = Path(folder)
        if not path.is_dir():
            raise CommandError(f"{folder} 不是文件夹。")
        try:
            evaluation = evaluate(path)
        except InvalidInput as error:
            raise CommandError(str(error)) from error
        if not evaluation.scores:
            raise CommandError(f"{folder} 中没有带 expected.json 的文档文件夹。")
        if json:
            self.stdout.write(_dumps(evaluation.as_json()))
        else:
            self._show(evaluation)

    def _show(self, evaluation: Evaluation) -> None:
        overall = evaluation.overall()
        self.stdout.write(f"{'字段':<10}{'正确':>6}{'总数':>6}{'准确率':>9}{'留空':>6}{'错误':>6}")
        for name in SCORED_FIELDS:
            tally = evaluation.by_field()[name]
            self.stdout.write(
                f"{FIELD_NAMES[name]:<10}{tally.right:>6}{tally.total:>6}{tally.accuracy:>9.1%}"
                f"{tally.missing:>6}{tally.wrong:>6}"
            )
        self.stdout.write(
            f"{'合计':<10}{overall.right:>6}{overall.total:>6}{overall.accuracy:>9.1%}"
            f"{overall.missing:>6}{overall.wrong:>6}"
        )
        self.stdout.write("")
        for name, tally in evaluation.by_document().items():
            self.stdout.write(f"{name}  {tally.right}/{tally.total}  {tally.accuracy:.0%}")
            for item in evaluation.scores:
                if item.document.split("/")[0] == name and item.verdict != "right":
                    verdict = "留空" if item.verdict == "missing" else "错误"
                    where = item.document[len(name) :] or ""
                    self.stdout.write(
                        f"    {FIELD_NAMES[item.field]}{where} {verdict}：应为 {item.expected!r}，读出 {item.found!r}"
                    )
            if name in evaluation.unreadable:
                self.stdout.write(f"    未能读取：{evaluation.unreadable[name]}")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
