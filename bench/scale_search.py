"""make bench-scale, section "search": 全文检索 over 10^4, 10^5 and 10^6 documents (issue 18).

Builds the documents (bench/search_corpus.py: the corpus's real sentences recombined) by COPY, with
everything the door needs: each document its self-enclosure, a dispatch, and a delivery to one of
100 county offices (a few to two), so that a county clerk sees about 1.3 % of everything; and the
search rows (DocumentSearch) the services would have written, tokenised per sentence
(documents.search, checked against vector_literal on a sample). Then times
workflow.search.document_search and the /search/ page (test client) for two-character and long
queries, as a county clerk, as a clerk of an issuing office (about 12 %) and as the region's auditor
(everything), p95 of many runs at each size.

    BENCH_DATABASE=gongwen_bench_search .venv/bin/python bench/scale.py --sections search [--quick] [--keep]
    BENCH_DATABASE=gongwen_bench_search .venv/bin/python bench/scale_search.py [runs [label]]  # a kept one again
"""

import datetime
import os
import random
import statistics
import time
from pathlib import Path

TWO_CHARACTER = ["疫情", "党委", "博物", "林长"]
LONG = ["疫情防控", "部际联席会议", "进一步发挥基层党组织战斗堡垒", "冠名问题 博物馆", "政府信息主动公开"]
COUNTIES = 100


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(0.95 * len(values)))], 1)


class Data:
    """The directory and the people: issuers (bench/search_corpus.ISSUERS), 100 counties under the
    region, an auditor of the region."""

    def __init__(self) -> None:
        from bench import search_corpus
        from tests.factories import person, unit
        from units.models import Role, Unit

        self.corpus = search_corpus.load()
        self.region = unit("内蒙古自治区党委", kind=Unit.Kind.PARTY_COMMITTEE)
        prefixes: dict[str, list[str]] = {}
        for name, prefix in search_corpus.ISSUERS:
            prefixes.setdefault(name, []).append(prefix)
        self.issuers = {name: unit(name, self.region, prefixes=p) for name, p in prefixes.items()}
        self.counties = [unit(f"第{n + 1}旗县委组织部", self.region) for n in range(COUNTIES)]
        self.county_clerk = person(self.counties[0], Role.CLERK, username="county_clerk")
        self.issuer_clerk = person(self.issuers["内蒙古自治区党委组织部"], Role.CLERK, username="issuer_clerk")
        self.auditor = person(self.region, Role.AUDITOR, username="region_auditor")
        self.sentence_tokens = [_sentence_positions(s) for s in self.corpus.sentences]
        self.count = 0


def _sentence_positions(sentence: str) -> tuple[list[tuple[str, int]], int]:
    """(token, offset) of a text as documents.search.vector_literal places them (the last
    character of a CJK run beside its last bigram), and how many positions the text takes."""
    from documents.search import _IS_CJK, _run_tokens, _runs

    out, at = [], 0
    for run in _runs(sentence):
        for token in _run_tokens(run):
            out.append((token, at))
            at += 1
        if len(run) > 1 and _IS_CJK.match(run):
            out.append((run[-1], at - 1))
    return out, at


def _vector(heading: tuple[str, ...], sentence_ids: list[int], tail: str, data: Data) -> str:
    """vector_literal(*heading, body, tail), from the sentences' cached tokens: the same literal."""
    from documents.search import MAX_POSITION, _quoted

    positions: dict[str, list[int]] = {}
    position = 1

    def place(tokens: list[tuple[str, int]]) -> None:
        for token, offset in tokens:
            found = positions.setdefault(token, [])
            at = min(position + offset, MAX_POSITION)
            if len(found) < 256 and (not found or found[-1] != at):
                found.append(at)

    texts = [_sentence_positions(text) for text in heading]
    body = [data.sentence_tokens[i] for i in sentence_ids]
    for tokens, width in texts:
        place(tokens)
        position += width + 1
    for tokens, width in body:
        place(tokens)
        position += width
    position += 1
    place(_sentence_positions(tail)[0])
    return " ".join(f"{_quoted(token)}:{','.join(map(str, found))}" for token, found in positions.items())


def grow(data: Data, target: int) -> float:
    """COPY documents (and their enclosures, dispatches, deliveries and search rows) up to `target`."""
    from django.db import connection

    from bench import search_corpus
    from documents.search import search_period, vector_literal

    if target <= data.count:
        return 0.0
    started = time.monotonic()
    rng = random.Random(target)  # noqa: S311 (bench data, not secrets)
    issuer_ids = {name: u.pk for name, u in data.issuers.items()}
    county_ids = [u.pk for u in data.counties]
    raw = connection.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM documents_document")
        next_id = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM workflow_dispatch")
        next_dispatch = cursor.fetchone()[0] + 1
    generated = list(search_corpus.documents(data.corpus, target - data.count, start=data.count))
    documents, dispatches, deliveries, searches, enclosures = [], [], [], [], []
    checked = 0
    dated = [
        (
            datetime.datetime(doc.number_year, 1, 1, 8, tzinfo=datetime.UTC)
            + datetime.timedelta(minutes=rng.randrange(365 * 24 * 60)),
            doc,
        )
        for doc in generated
    ]
    # In date order, as an installation writes them (a document is indexed when it is drafted and
    # issued): a month's rows lie together in the table. In the generator's order they lay all over
    # it, and every month walked read its matches from as many pages (the worst case, in the README).
    dated.sort(key=lambda pair: pair[0])
    for offset, (issued_at, doc) in enumerate(dated):
        pk, dispatch_id = next_id + offset, next_dispatch + offset
        body = "".join(data.corpus.sentences[i] for i in doc.sentence_ids)
        documents.append(
            (
                pk,
                issuer_ids[doc.issuer],
                doc.number_prefix,
                doc.number_year,
                doc.number_serial,
                doc.title,
                body,
                doc.kind,
                doc.urgency,
                doc.issuer,
                issued_at,
            )
        )
        enclosures.append((pk, pk))
        dispatches.append((dispatch_id, pk, issuer_ids[doc.issuer], issued_at))
        units = {county_ids[rng.randrange(COUNTIES)] for _ in range(1 + (rng.random() < 0.3))}
        issuer = issuer_ids[doc.issuer]
        deliveries.extend((dispatch_id, pk, unit_id, doc.urgency, issuer, issued_at) for unit_id in units)
        number = doc.number
        heading = (number, doc.title, f"{doc.issuer} {doc.issuer}")
        vector = _vector(heading, doc.sentence_ids, " ", data)
        if checked < 50 and rng.random() < 0.01:  # the cached tokens give what the services write
            assert vector == vector_literal(*heading, body, " "), number
            checked += 1
        searches.append((pk, issued_at, search_period(issued_at), issuer, vector, vector_literal(*heading)))
    with raw.cursor() as cursor:
        _copy(
            cursor,
            "documents_document (id, issuing_unit_id, number_prefix, number_year, number_serial, title, body, kind, "
            "urgency, issuer_mark, issued_at, created_at, state, digest, classification, copy_number, "
            "classification_period, signatory, main_recipients_text, attachment_note, signature_organ, seal_note, "
            "annotation, cc_text, printing_organ, telegram_send_to, telegram_approval_office, telegram_approver, "
            "telegram_seal, title_breaks)",
            (
                (
                    *row,
                    row[-1],
                    "issued",
                    "0" * 64,
                    "公开",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "[]",
                )
                for row in documents
            ),
        )
        # The self-enclosure rows (depth 0) of documents already issued: the frozen-parts trigger
        # refuses them, as it should in the product; the bench writes them as if drafted first.
        cursor.execute("SET session_replication_role = replica")
        _copy(
            cursor,
            "documents_enclosure (cover_id, enclosed_id, depth, position)",
            ((a, b, 0, 0) for a, b in enclosures),
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        _copy(
            cursor,
            "workflow_dispatch (id, document_id, issuing_unit_id, created_at, queue, main_unit_ids, cc_unit_ids, "
            "recipient_count, route_attempts, notify_attempts, routed_at, notified_at)",
            ((i, d, issuer, at, "routine", "[]", "[]", 1, 0, 0, at, at) for i, d, issuer, at in dispatches),
        )
        _copy(
            cursor,
            "workflow_delivery (dispatch_id, document_id, unit_id, role, urgency, issuing_unit_id, state, created_at, "
            "reminder_count)",
            (
                (di, d, u, "主送", urgency, issuer, "signed" if rng.random() < 0.8 else "pending", at, 0)
                for di, d, u, urgency, issuer, at in deliveries
            ),
            fix_signed=True,
        )
        # GIN takes rows one at a time: for a large load, build the indexes afterwards instead.
        rebuild = len(searches) >= 100_000
        if rebuild:
            cursor.execute("DROP INDEX document_search_period_vector, document_search_period_heading")
        _copy(
            cursor,
            "documents_documentsearch (document_id, dated_at, period, issuing_unit_id, vector, heading)",
            searches,
        )
        if rebuild:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for column in ("vector", "heading"):
                cursor.execute(
                    f"CREATE INDEX document_search_period_{column} ON documents_documentsearch "
                    f"USING gin (period, {column})"
                )
        cursor.execute(
            "INSERT INTO documents_searchperiod (period) SELECT unnest(%s::int[]) ON CONFLICT DO NOTHING",
            [sorted({row[2] for row in searches})],
        )
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('documents_document', 'id'), {next_id + len(generated)})")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('workflow_dispatch', 'id'), {next_dispatch + len(generated)})"
        )
    raw.commit() if not raw.autocommit else None
    with connection.cursor() as cursor:
        for table in (
            "documents_document",
            "documents_enclosure",
            "workflow_dispatch",
            "workflow_delivery",
            "documents_documentsearch",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    data.count = target
    return time.monotonic() - started


def _copy(cursor, target: str, rows, *, fix_signed: bool = False) -> None:
    if fix_signed:  # a signed delivery has its time (delivery_signed_has_time)
        target = target.replace("reminder_count)", "reminder_count, signed_at)")
        state, created_at = (target.split("(", 1)[1].split(", ").index(name) for name in ("state", "created_at"))
        rows = ((*row, row[created_at] if row[state] == "signed" else None) for row in rows)
    with cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _time(function, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(data: Data | None, runs: int) -> dict:
    """p95 per person and kind of query; with `data` None, the people are found by their usernames
    in a database a run kept (--keep): `python bench/scale_search.py` measures it again."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from workflow.search import document_search

    if data is None:
        users = get_user_model().objects.in_bulk(
            ["county_clerk", "issuer_clerk", "region_auditor"], field_name="username"
        )
        people = {
            "county clerk": users["county_clerk"],
            "issuer clerk": users["issuer_clerk"],
            "auditor": users["region_auditor"],
        }
    else:
        people = {"county clerk": data.county_clerk, "issuer clerk": data.issuer_clerk, "auditor": data.auditor}
    out: dict = {}
    for who, user in people.items():
        for label, queries in (("2-char", TWO_CHARACTER), ("long", LONG)):
            times, hits = [], {}
            for query in queries:
                document_search(user, query)  # warm
                times += _time(lambda q=query, u=user: document_search(u, q), runs)
                hits[query] = len(document_search(user, query).hits)
            out[f"{who} {label}"] = {
                "p95_ms": _p95(times),
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
                "hits_first_page": hits,
            }
    client = Client(SERVER_NAME="localhost")
    client.force_login(people["county clerk"], backend="django.contrib.auth.backends.ModelBackend")
    for label, queries in (("2-char", TWO_CHARACTER), ("long", LONG)):
        times = []
        for query in queries:
            assert client.get("/search/", {"q": query}).status_code == 200
            times += _time(lambda q=query: client.get("/search/", {"q": q}), max(5, runs // 2))
        out[f"page county clerk {label}"] = {"p95_ms": _p95(times), "median_ms": round(statistics.median(times), 1)}
    return out


def run(*, quick: bool, workdir: Path) -> dict:
    sizes = [10_000] if quick else [int(s) for s in os.environ.get("SEARCH_SIZES", "10000,100000,1000000").split(",")]
    runs = 10 if quick else 30
    data = Data()
    curves: dict[str, list] = {"search 2-char": [], "search long": [], "search page 2-char": [], "search page long": []}
    figures: dict = {"sizes": {}, "build_seconds": {}}
    for size in sizes:
        seconds = grow(data, size)
        figures["build_seconds"][size] = round(seconds, 1)
        measured = measure(data, runs)
        figures["sizes"][size] = measured
        curves["search 2-char"].append({"size": size, "p95_ms": measured["county clerk 2-char"]["p95_ms"]})
        curves["search long"].append({"size": size, "p95_ms": measured["county clerk long"]["p95_ms"]})
        curves["search page 2-char"].append({"size": size, "p95_ms": measured["page county clerk 2-char"]["p95_ms"]})
        curves["search page long"].append({"size": size, "p95_ms": measured["page county clerk long"]["p95_ms"]})
        print(f"{size:>9} documents, built in {seconds:.0f} s (load {os.getloadavg()[0]:.2f})", flush=True)
        for name, row in measured.items():
            print(f"    {name:<28} p95 {row['p95_ms']:>7} ms  median {row['median_ms']:>7} ms", flush=True)
    figures["curves"] = curves
    return figures


if __name__ == "__main__":  # measure a kept database again: BENCH_DATABASE=… python bench/scale_search.py [runs]
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.run import _configure

    _configure()
    import django

    django.setup()
    from documents.models import DocumentSearch

    figures = measure(None, int(sys.argv[1]) if len(sys.argv) > 1 else 30)
    measured = {
        "documents": DocumentSearch.objects.count(),
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="minutes"),
        "load": [round(x, 2) for x in os.getloadavg()[:2]],
        **figures,
    }
    print(json.dumps(measured, ensure_ascii=False, indent=2))
    if len(sys.argv) > 2:  # a label: kept in bench/results.json, "scale" → "search_kept" → label
        out = Path(__file__).parent / "results.json"
        results = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
        results.setdefault("scale", {}).setdefault("search_kept", {})[sys.argv[2]] = measured
        out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
