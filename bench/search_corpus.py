"""Real-looking 公文 for the search benchmarks: the wording of tests/documents/corpus/*/source.txt and
of the seed telegram (workflow/demo), recombined with numbers, issuers and years.

Each document is a title (a corpus title's subject under another issuer, year and 文种), a number
and a body of sentences drawn from the corpus, so that every word a clerk searches for occurs with
its real frequency in real sentences; no two documents are the same (the number differs).
Deterministic for a seed. Sentences are the unit of reuse: whoever tokenises a document may
tokenise each sentence once (`Corpus.sentences`) and join the results.
"""

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "documents" / "corpus"
EXTRA = [ROOT / "workflow" / "demo" / "telegram_body.txt", ROOT / "workflow" / "demo" / "cover_body.txt"]

ISSUERS = [
    ("内蒙古自治区党委组织部", "内组字"),
    ("内蒙古自治区党委组织部", "内组电明字"),
    ("中共内蒙古自治区教育工作委员会", "内教工委函"),
    ("内蒙古大学党委", "内大党发"),
    ("内蒙古工业大学党委", "内工大党发"),
    ("呼和浩特市委组织部", "呼组字"),
    ("包头市委组织部", "包组字"),
    ("鄂尔多斯市委组织部", "鄂组发"),
    ("国务院办公厅", "国办函"),
    ("四川省人民政府", "川府函"),
    ("湖北省人民政府", "鄂政发"),
    ("宁波市人民政府", "甬政发"),
    ("中共福建省委教育工委", "闽委教"),
    ("赤峰市委组织部", "赤组字"),
    ("通辽市委组织部", "通组字"),
    ("兴安盟委组织部", "兴组字"),
]
KINDS = ["通知", "通知", "通知", "函", "通报", "意见", "批复", "明传电报"]
URGENCIES = ["普通"] * 6 + ["加急", "特急"]

_BREAK = re.compile(r"[。！？；;\n]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _sentences(text: str) -> list[str]:
    """Pieces between sentence ends and line breaks, of eight characters or more, mostly Chinese."""
    pieces = (piece.strip() for piece in _BREAK.split(text))
    return [p + "。" for p in pieces if len(p) >= 8 and len(_CJK.findall(p)) * 2 >= len(p)]


@dataclass
class Corpus:
    sentences: list[str]
    subjects: list[str]


def load() -> Corpus:
    """The corpus's sentences and title subjects (what follows 关于, before the 文种)."""
    sentences: list[str] = []
    subjects: list[str] = []
    for folder in sorted(CORPUS.iterdir()):
        source = folder / "source.txt"
        if not source.exists():
            continue
        text = source.read_text(encoding="utf-8")
        sentences.extend(_sentences(text))
        expected = folder / "expected.json"
        title = json.loads(expected.read_text(encoding="utf-8")).get("title") if expected.exists() else None
        title = title or text.strip().splitlines()[0]
        match = re.search(r"关于(.+?)的(?:紧急)?(?:通知|函|复函|批复|通报|意见|决定)$", title)
        if match:
            subjects.append(match.group(1))
    for extra in EXTRA:
        sentences.extend(_sentences(extra.read_text(encoding="utf-8")))
    # Same sentence twice in the corpus (boilerplate): kept once, it is chosen by chance anyway.
    return Corpus(sentences=sorted(set(sentences)), subjects=sorted(set(subjects)))


@dataclass
class GeneratedDocument:
    number_prefix: str
    number_year: int
    number_serial: int
    issuer: str
    title: str
    kind: str
    urgency: str
    sentence_ids: list[int]

    @property
    def number(self) -> str:
        return f"{self.number_prefix}〔{self.number_year}〕{self.number_serial}号"


def documents(corpus: Corpus, count: int, *, seed: int = 18, start: int = 0):
    """`count` documents; the n-th always the same for a seed (serials count up per prefix and year)."""
    rng = random.Random(seed)  # noqa: S311 (bench data, not secrets)
    serials: dict[tuple[str, int], int] = {}
    for n in range(start + count):
        issuer, prefix = ISSUERS[rng.randrange(len(ISSUERS))]
        year = 2015 + rng.randrange(12)
        kind = KINDS[rng.randrange(len(KINDS))]
        subject = corpus.subjects[rng.randrange(len(corpus.subjects))]
        title = f"{issuer}关于{subject}的{kind if kind != '明传电报' else '通知'}"
        urgency = URGENCIES[rng.randrange(len(URGENCIES))]
        sentence_ids = [rng.randrange(len(corpus.sentences)) for _ in range(6 + rng.randrange(12))]
        serial = serials[(prefix, year)] = serials.get((prefix, year), 0) + 1
        if n >= start:
            yield GeneratedDocument(prefix, year, serial, issuer, title, kind, urgency, sentence_ids)
