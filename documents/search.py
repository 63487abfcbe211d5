"""The words of a document for full-text search (全文检索): overlapping character bigrams.

Chinese has no spaces, and PostgreSQL's parsers have no Chinese dictionary. Instead of segmenting
words (jieba), a text is cut into overlapping pairs of characters: 基层党组织 → 基层 层党 党组 组织. A query
is cut the same way and searched as a phrase (基层 <-> 层党 <-> 党组 <-> 组织), so any substring of two
characters or more is found, whatever a segmenter would have made of its neighbours; a one-character
query is a prefix of the pairs ('党':*). bench/search_methods.py measured this against pg_trgm and
jieba (README, "Search"): pg_trgm cannot serve two-character queries from its index, jieba misses
words it cut otherwise in the document.

Rules, the same for documents and queries (so positions agree):
- NFKC first (full-width digits and letters become ASCII), then lower case.
- A run of CJK characters of two or more gives its bigrams, and (in documents, at the position of
  the last bigram) its last character alone: a one-character query is a prefix ('党':*), and finds
  党 at the end of 入党 through that character.
- A run of one CJK character gives that character.
- A run of letters or digits (2022, 11, ofd, Mongolian words) is one token.
- Anything else (punctuation, spaces, 〔〕) separates runs and takes no position: 〔2022〕11号 is
  2022, 11, 号 at consecutive positions, so a clerk's (2022)11号 finds it too.

Pure functions, no Django: the migration, the services and the bench use the same code.
"""

import datetime
import re
import unicodedata
from zoneinfo import ZoneInfo

# tsvector positions stop at 16383 (PostgreSQL clamps larger ones); a body longer than that still
# has every word, but phrases beyond it match less exactly. A 公文 is rarely 5,000 characters.
MAX_POSITION = 16383
# A query of more tokens than this is cut: a 64-token phrase already names one paragraph.
MAX_QUERY_TOKENS = 64

_CJK = (
    "\u3400-\u4dbf"  # Extension A
    "\u4e00-\u9fff"  # Unified Ideographs
    "\uf900-\ufaff"  # Compatibility Ideographs
    "\U00020000-\U0002ebef"  # Extensions B-F
)
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def _runs(text: str) -> list[str]:
    return _RUN.findall(unicodedata.normalize("NFKC", text or "").lower())


def _run_tokens(run: str) -> list[str]:
    if len(run) > 1 and _IS_CJK.match(run):
        return [run[i : i + 2] for i in range(len(run) - 1)]
    return [run]


def tokens(text: str) -> list[str]:
    """The text's tokens in order: a token's index is its position (minus one) in the tsvector."""
    return [token for run in _runs(text) for token in _run_tokens(run)]


def _quoted(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


# The month a document is dated in (its search period): local months, as the date filters are.
PERIOD_ZONE = ZoneInfo("Asia/Shanghai")


def search_period(dated_at: datetime.date) -> int:
    """The month of `dated_at` (a moment, taken in Asia/Shanghai, or a local date) as one number,
    year * 12 + month - 1: the bucket the search walks, newest first (workflow.search). Monotonic: a
    later moment never has a smaller period, so walking periods newest first and dates newest first
    within each is the date order."""
    local = dated_at.astimezone(PERIOD_ZONE) if isinstance(dated_at, datetime.datetime) else dated_at
    return local.year * 12 + local.month - 1


def vector_literal(*texts: str) -> str:
    """A tsvector literal of the texts' tokens with their positions (the texts follow each other,
    one position apart, so a phrase never runs from the number into the title)."""
    positions: dict[str, list[int]] = {}
    position = 1

    def add(token: str, at: int) -> None:
        found = positions.setdefault(token, [])
        # PostgreSQL keeps at most 256 positions of one lexeme.
        if len(found) < 256 and (not found or found[-1] != min(at, MAX_POSITION)):
            found.append(min(at, MAX_POSITION))

    for text in texts:
        for run in _runs(text):
            run_tokens = _run_tokens(run)
            for token in run_tokens:
                add(token, position)
                position += 1
            if len(run) > 1 and _IS_CJK.match(run):
                add(run[-1], position - 1)
        position += 1
    return " ".join(f"{_quoted(token)}:{','.join(map(str, found))}" for token, found in positions.items())


def _query_parts(query: str) -> list[list[str]]:
    """The quoted tsquery terms of each space-separated part (a lone CJK character as a prefix)."""
    parts, budget = [], MAX_QUERY_TOKENS
    for part in query.split():
        found = tokens(part)[:budget]
        budget -= len(found)
        if not found:
            continue
        if len(found) == 1 and len(found[0]) == 1 and _IS_CJK.match(found[0]):
            parts.append([f"{_quoted(found[0])}:*"])
        else:
            parts.append([_quoted(token) for token in found])
        if budget <= 0:
            break
    return parts


def query_literal(query: str) -> str:
    """A tsquery literal for what a person typed: each space-separated part is a phrase of its
    tokens, and all parts must match. A part that is one CJK character is a prefix ('党':*), which
    finds it as the first of a pair, or alone. "" when nothing searchable was typed."""
    return " & ".join(terms[0] if len(terms) == 1 else "(" + " <-> ".join(terms) + ")" for terms in _query_parts(query))


def all_terms_literal(query: str) -> str:
    """The same terms without their order: every token somewhere in the document. GIN answers it
    from the index alone, where a phrase makes it read every candidate's vector again (measured:
    the recheck is what made long queries slow); workflow.search checks the phrase on the few
    candidates of a page. Equal to query_literal when no part has two tokens."""
    return " & ".join(term for terms in _query_parts(query) for term in terms)


# Each character seen so far, and the one-character fold of those whose fold differs (for
# str.translate): Chinese bodies are full of full-width punctuation (，（） fold to ,()), so folding
# a text character by character cost 60 µs a body, 20 highlights a search page.
_SEEN: set[str] = set()
_FOLDS: dict[int, str] = {}


def _normalised(text: str) -> str:
    """The text with each character NFKC-normalised and lower-cased where that keeps it one
    character (full-width digits, Latin capitals), so that offsets stay those of the text."""
    new = set(text) - _SEEN
    for ch in new:
        folded = unicodedata.normalize("NFKC", ch).lower()
        if len(folded) == 1 and folded != ch:
            _FOLDS[ord(ch)] = folded
    _SEEN.update(new)
    return text.translate(_FOLDS)


def hit_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where the runs of the query (as tokenised) occur in the text: sorted, merged (start, end)."""
    haystack = _normalised(text or "")
    spans = []
    for run in {run for part in query.split() for run in _runs(part)}:
        start = haystack.find(run)
        while start >= 0:
            spans.append((start, start + len(run)))
            start = haystack.find(run, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight_segments(text: str, query: str, *, window: int | None = None) -> list[tuple[str, bool]]:
    """The text cut into (segment, is_hit) pieces; with `window`, only about that many characters
    around the first hit (or from the start), with … where the text was cut. Text, never markup:
    whoever renders it escapes each segment."""
    text = text or ""
    spans = hit_spans(text, query)
    start, end = 0, len(text)
    if window is not None and len(text) > window:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - window // 4, len(text) - window))
        end = start + window
    segments: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    at = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        if span_start > at:
            segments.append((text[at:span_start], False))
        segments.append((text[span_start:span_end], True))
        at = span_end
    if at < end:
        segments.append((text[at:end], False))
    if end < len(text):
        segments.append(("…", False))
    return segments
