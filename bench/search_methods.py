#!/usr/bin/env python
"""Which Chinese full-text search: pg_trgm, character bigrams in a tsvector, or jieba in a tsvector.

Builds N documents (bench/search_corpus.py: real sentences recombined) by COPY into scratch tables of
the benchmark database, indexes them three ways, and times the same queries on each:

  trigram  pg_trgm GIN on the text, queried with ILIKE '%q%' (exact: the index proposes, the row
           is rechecked). Trigrams need three characters: 疫情 cannot use the index.
  bigram   tsvector of overlapping character bigrams (documents.search), 'simple' config, the
           query a phrase of bigrams.
  jieba    tsvector of jieba.cut_for_search tokens; the query's cut_for_search tokens, AND.

Each query is run `--runs` times per method, "top 20 by recency" (ORDER BY issued_at DESC LIMIT 21,
what a results page needs). Recall is against the truth (the text contains the query), counted
without a limit. Prints a table and writes bench/search_methods.json.

    BENCH_DATABASE=gongwen_bench_search .venv/bin/python bench/search_methods.py --documents 100000
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench import search_corpus  # noqa: E402
from documents.search import all_terms_literal, query_literal, vector_literal  # noqa: E402

# 花炮 and 援藏 are rare (one corpus document each): a trigram index cannot serve them, so the
# scan reads the table until a page is full, or to its end.
TWO_CHARACTER = ["疫情", "党委", "通知", "防控", "博物", "放假", "花炮", "援藏"]
LONG = [
    "基层党组织",
    "部际联席会议",
    "冠名问题",
    "疫情防控",
    "进一步发挥基层党组织战斗堡垒和党员先锋模范作用",
    "放假安排",
    "高等学校党委",
    "政府信息主动公开",
    "防汛抗旱",
    "组织部",
    # Fragments a clerk types that cut across a segmenter's words: a unit's short name, a number.
    "教工委",
    "组电明",
    "大学党委",
    "务院办公",
    "区党委",
]


def _url() -> str:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gongwen")
    name = os.environ.get("BENCH_DATABASE", "gongwen_bench_search")
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f"CREATE DATABASE {name}")


def _jieba_vector(cut, sentence_tokens: list[list[str]]) -> str:
    positions: dict[str, list[int]] = {}
    position = 1
    for sentence in sentence_tokens:
        for token in sentence:
            found = positions.setdefault(token, [])
            if len(found) < 256:
                found.append(min(position, 16383))
            position += 1
    return " ".join(
        "'" + t.replace("\\", "\\\\").replace("'", "''") + "':" + ",".join(map(str, p)) for t, p in positions.items()
    )


def _jieba_tokens(cut, text: str) -> list[str]:
    return [t.lower() for t in cut(text) if t.strip() and any(ch.isalnum() for ch in t)]


def build(conn, count: int) -> dict:
    import jieba

    jieba.setLogLevel(60)
    corpus = search_corpus.load()
    sentence_jieba = [_jieba_tokens(jieba.cut_for_search, s) for s in corpus.sentences]
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    conn.execute("DROP TABLE IF EXISTS search_methods")
    conn.execute(
        "CREATE UNLOGGED TABLE search_methods (id bigint PRIMARY KEY, issued_at timestamptz NOT NULL, "
        "text text NOT NULL, bigrams tsvector NOT NULL, jieba tsvector NOT NULL)"
    )
    started = time.monotonic()
    with conn.cursor().copy("COPY search_methods (id, issued_at, text, bigrams, jieba) FROM STDIN") as copy:
        for n, doc in enumerate(search_corpus.documents(corpus, count), start=1):
            body = "".join(corpus.sentences[i] for i in doc.sentence_ids)
            parts = [doc.number, doc.title, body, doc.issuer]
            jieba_tokens = [_jieba_tokens(jieba.cut_for_search, p) for p in (doc.number, doc.title, doc.issuer)]
            jieba_tokens += [sentence_jieba[i] for i in doc.sentence_ids]
            issued = f"{doc.number_year}-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:00:00+08"
            copy.write_row((n, issued, "\n".join(parts), vector_literal(*parts), _jieba_vector(None, jieba_tokens)))
    copied = time.monotonic() - started
    timings = {"copy_s": round(copied, 1)}
    for name, statement in {
        "trigram": "CREATE INDEX search_methods_trgm ON search_methods USING gin (text gin_trgm_ops)",
        "bigram": "CREATE INDEX search_methods_bigram ON search_methods USING gin (bigrams)",
        "jieba": "CREATE INDEX search_methods_jieba ON search_methods USING gin (jieba)",
        "issued": "CREATE INDEX search_methods_issued ON search_methods (issued_at DESC, id DESC)",
    }.items():
        started = time.monotonic()
        conn.execute(statement)
        timings[f"index_{name}_s"] = round(time.monotonic() - started, 1)
    conn.execute("VACUUM ANALYZE search_methods")
    sizes = conn.execute(
        "SELECT pg_relation_size('search_methods_trgm'), pg_relation_size('search_methods_bigram'), "
        "pg_relation_size('search_methods_jieba'), pg_total_relation_size('search_methods')"
    ).fetchone()
    timings["index_mb"] = {
        k: round(v / 2**20) for k, v in zip(("trigram", "bigram", "jieba", "table_total"), sizes, strict=True)
    }
    return timings


def _conditions(query: str) -> dict[str, tuple[str, list]]:
    import jieba

    like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    jieba_words = _jieba_tokens(jieba.cut_for_search, query)
    jieba_query = " & ".join("'" + w.replace("'", "''") + "'" for w in jieba_words) or "''"
    return {
        "trigram": (sql.SQL("text ILIKE %s"), [like]),
        "bigram": (sql.SQL("bigrams @@ %s::tsquery"), [query_literal(query)]),
        # What workflow.search asks the index: every bigram, in any order (no recheck of positions);
        # the phrase is then checked on a page's candidates only. Recall is that of the index step.
        "bigram_and": (sql.SQL("bigrams @@ %s::tsquery"), [all_terms_literal(query)]),
        "jieba": (sql.SQL("jieba @@ %s::tsquery"), [jieba_query]),
    }


def measure(conn, runs: int) -> dict:
    results: dict = {}
    for query in TWO_CHARACTER + LONG:
        truth = {
            row[0]
            for row in conn.execute("SELECT id FROM search_methods WHERE strpos(text, %s) > 0", [query]).fetchall()
        }
        row = {"truth": len(truth)}
        for method, (condition, params) in _conditions(query).items():
            found = {
                r[0] for r in conn.execute(sql.SQL("SELECT id FROM search_methods WHERE {}").format(condition), params)
            }
            times = []
            page = sql.SQL("SELECT id FROM search_methods WHERE {} ORDER BY issued_at DESC, id DESC LIMIT 21")
            for _ in range(runs):
                started = time.perf_counter()
                conn.execute(page.format(condition), params).fetchall()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            ranked = []
            if method in ("bigram", "jieba"):  # ts_rank over every match, the cost of ranking by relevance
                column = sql.Identifier("bigrams" if method == "bigram" else "jieba")
                ranked_sql = sql.SQL(
                    "SELECT id FROM search_methods WHERE {} ORDER BY ts_rank({}, %s::tsquery) DESC, id DESC LIMIT 21"
                ).format(condition, column)
                for _ in range(max(3, runs // 5)):
                    started = time.perf_counter()
                    conn.execute(ranked_sql, params + params).fetchall()
                    ranked.append((time.perf_counter() - started) * 1000)
            row[method] = {
                "recall": round(len(found & truth) / len(truth), 3) if truth else 1.0,
                "false_hits": len(found - truth),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "median_ms": round(statistics.median(times), 1),
                **({"ranked_median_ms": round(statistics.median(ranked), 1)} if ranked else {}),
            }
        results[query] = row
        print(
            f"{query:<18} truth {len(truth):>7}  "
            + "  ".join(
                f"{m} p95 {row[m]['p95_ms']:>7} ms rec {row[m]['recall']:.3f}"
                + (f" rank {row[m]['ranked_median_ms']:>7}" if "ranked_median_ms" in row[m] else "")
                for m in ("trigram", "bigram", "bigram_and", "jieba")
            ),
            flush=True,
        )
    return results


def summary(results: dict) -> dict:
    out = {}
    for method in ("trigram", "bigram", "bigram_and", "jieba"):
        for label, queries in (("two_character", TWO_CHARACTER), ("long", LONG)):
            out[f"{method}_{label}_p95_ms_worst"] = max(results[q][method]["p95_ms"] for q in queries)
        out[f"{method}_recall_min"] = min(results[q][method]["recall"] for q in results)
        out[f"{method}_recall_mean"] = round(statistics.mean(results[q][method]["recall"] for q in results), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="measure the table already built")
    args = parser.parse_args()
    url = _url()
    _ensure_database(url)
    load_before = [round(x, 2) for x in os.getloadavg()]
    with psycopg.connect(url, autocommit=True) as conn:
        built = {} if args.reuse else build(conn, args.documents)
        print(f"built: {built}", flush=True)
        results = measure(conn, args.runs)
        if not args.reuse:
            conn.execute("DROP TABLE search_methods")
    figures = {
        "documents": args.documents,
        "runs": args.runs,
        "built": built,
        "summary": summary(results),
        "queries": results,
        "machine": {
            "cores": os.cpu_count(),
            "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(figures["summary"], ensure_ascii=False, indent=1))
    (ROOT / "bench" / "search_methods.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
