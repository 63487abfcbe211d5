"""How well the importer reads a corpus of documents whose fields were written down by hand.

Each document of a corpus is a folder holding its source file (`source.txt`, `source.docx`, …) and
`expected.json`, the fields a careful clerk reads in it, in the shape of `import_document --json`
(only the scored keys are needed; `enclosed` holds the documents the page reproduces in full). The
scored fields are those a 收文登记 records: issuer, number, title, 主送, 抄送, the forwarded documents'
titles and numbers, date, 署名 and the number of attachments.

A field is right when the importer's value equals the expectation once white space is taken out and
the brackets of a number are made 〔〕; missing when the importer left it empty and the document has
one; wrong otherwise, including a value the document does not have. Wrong is worse than missing (a
clerk corrects an empty field but may trust a filled one), so the two are counted apart.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from documents.importing.decoding import read_file
from documents.importing.result import ParsedDocument
from units.errors import InvalidInput

SCORED_FIELDS = (
    "issuer",
    "number",
    "title",
    "main_recipients",
    "cc",
    "forwarded_titles",
    "forwarded_numbers",
    "date",
    "signatory",
    "attachments",
)
_BRACKETED_YEAR = re.compile(r"[\[［(（【〔]\s*(\d{4})\s*[\]］)）】〕]")


def _text(value) -> str:
    return re.sub(r"\s", "", value or "")


def _number(value) -> str:
    return _BRACKETED_YEAR.sub(r"〔\1〕", _text(value))


def comparable(document: dict) -> dict[str, object]:
    """The scored fields of one document (import_document's JSON shape), made comparable."""
    forwarded = document.get("forwarded") or []
    return {
        "issuer": _text(document.get("issuer")),
        "number": _number(document.get("number")),
        "title": _text(document.get("title")),
        "main_recipients": tuple(_text(name) for name in document.get("main_recipients") or []),
        "cc": tuple(_text(name) for name in document.get("cc") or []),
        "forwarded_titles": tuple(_text(item.get("title")).strip("《》") for item in forwarded),
        "forwarded_numbers": tuple(_number(item.get("number")) for item in forwarded),
        "date": document.get("date") or "",
        "signatory": _text(document.get("signatory")),
        "attachments": len(document.get("attachments") or []),
    }


@dataclass(frozen=True)
class FieldScore:
    document: str  # the corpus folder, and which enclosed document: "012-shaanxi", "012-shaanxi/1"
    field: str
    expected: object
    found: object
    verdict: str  # "right", "missing" or "wrong"


def score(name: str, expected: dict, found: dict) -> Iterator[FieldScore]:
    """Every scored field of the document and of each document it encloses, expected against found."""
    wanted, got = comparable(expected), comparable(found)
    for name_of_field in SCORED_FIELDS:
        value, result = wanted[name_of_field], got[name_of_field]
        if value == result:
            verdict = "right"
        elif not result:
            verdict = "missing"
        else:
            verdict = "wrong"
        yield FieldScore(name, name_of_field, value, result, verdict)
    found_enclosed = found.get("enclosed") or []
    for index, inner in enumerate(expected.get("enclosed") or [], 1):
        yield from score(f"{name}/{index}", inner, found_enclosed[index - 1] if index <= len(found_enclosed) else {})


@dataclass
class Tally:
    right: int = 0
    missing: int = 0
    wrong: int = 0

    @property
    def total(self) -> int:
        return self.right + self.missing + self.wrong

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 1.0

    def add(self, verdict: str) -> None:
        setattr(self, verdict, getattr(self, verdict) + 1)

    def as_json(self) -> dict:
        return {
            "right": self.right,
            "missing": self.missing,
            "wrong": self.wrong,
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
        }


@dataclass
class Evaluation:
    scores: list[FieldScore] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # folder → why its source was not read

    def by_field(self) -> dict[str, Tally]:
        tallies = {name: Tally() for name in SCORED_FIELDS}
        for item in self.scores:
            tallies[item.field].add(item.verdict)
        return tallies

    def by_document(self) -> dict[str, Tally]:
        tallies: dict[str, Tally] = {}
        for item in self.scores:
            tallies.setdefault(item.document.split("/")[0], Tally()).add(item.verdict)
        return tallies

    def overall(self) -> Tally:
        tally = Tally()
        for item in self.scores:
            tally.add(item.verdict)
        return tally

    def as_json(self) -> dict:
        return {
            "accuracy": self.overall().as_json(),
            "fields": {name: tally.as_json() for name, tally in self.by_field().items()},
            "documents": {name: tally.as_json() for name, tally in self.by_document().items()},
            "misses": [
                {"document": item.document, "field": item.field, "expected": item.expected, "found": item.found}
                for item in self.scores
                if item.verdict != "right"
            ],
            "unreadable": self.unreadable,
        }


def corpus_documents(folder: Path) -> list[tuple[str, Path, dict]]:
    """(name, source file, expectation) of each document of the corpus, by folder name. A folder
    without expected.json, or with no source file or more than one, is refused (InvalidInput)."""
    found = []
    for entry in sorted(path for path in folder.iterdir() if path.is_dir()):
        expectation = entry / "expected.json"
        if not expectation.is_file():
            continue
        sources = sorted(path for path in entry.glob("source.*") if path.suffix != ".json")
        if len(sources) != 1:
            raise InvalidInput(f"{entry.name}：应有且只有一个 source.* 文件，找到 {len(sources)} 个。")
        try:
            expected = json.loads(expectation.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInput(f"{entry.name}/expected.json 不是有效的 JSON：{error}") from error
        found.append((entry.name, sources[0], expected))
    return found


def evaluate(folder: Path) -> Evaluation:
    """Read every document of the corpus as import_document does, and score it."""
    from documents.importing import import_bytes  # the package imports its parts first

    evaluation = Evaluation()
    for name, source, expected in corpus_documents(folder):
        try:
            parsed = import_bytes(read_file(source), name=source.name)
        except InvalidInput as error:
            evaluation.unreadable[name] = str(error)
            parsed = ParsedDocument.unreadable(str(error))
        evaluation.scores.extend(score(name, expected, parsed.as_json()))
    return evaluation
