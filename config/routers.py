"""Read replicas: the read-only pages read from "replica", everything else from "default".

With REPLICA_DATABASE_URL set, settings add a "replica" alias (a streaming standby of the primary)
and this router. A view marked `@reads_from_replica` (the lists, the chain page and its exports,
search, the PDFs) runs its reads there; every write goes to "default", whatever the view, and so do
the reads around it:

- reads inside a transaction on "default" (`transaction.atomic()`, `select_for_update`): they must
  see the transaction's own writes and lock rows of the primary;
- every read after the view's first write (read-your-writes: the replica lags);
- sessions and django-axes' lockout records (a login just written must not be missed by a replica
  a few hundred milliseconds behind, or the person is signed out);
- everything outside a marked view: middleware, the other pages, the API, Celery tasks and commands.

Without REPLICA_DATABASE_URL there is no "replica" alias and the router answers None throughout:
Django's own routing (every query on "default"), as before.
"""

import contextvars
import functools

from django.db import connections

REPLICA = "replica"
# Apps whose rows are read right after they are written by another request (a login, a lockout).
PRIMARY_ONLY_APPS = frozenset({"sessions", "axes"})

# None: outside a read-only view. Otherwise a one-item list: whether the view has written yet.
_scope: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar("replica_scope", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _in_transaction() -> bool:
    """Whether the code runs inside a transaction.atomic() of its own on "default" (a test case's
    wrapping transaction, which Django marks, is not one: the test stands for a request)."""
    return any(not block._from_testcase for block in connections["default"].atomic_blocks)


class ReplicaRouter:
    """Sends a read-only view's reads to "replica" (see the module); every write to "default"."""

    def db_for_read(self, model, **hints):
        scope = _scope.get()
        if scope is None or scope[0] or not replica_configured():
            return None
        if model._meta.app_label in PRIMARY_ONLY_APPS or _in_transaction():
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        scope = _scope.get()
        if scope is not None:
            scope[0] = True  # from now on this view reads its own writes, on the primary
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # Rows read from the replica are rows of the primary: relate them freely.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica is a copy of the primary: migrations run on "default" only.
        return db != REPLICA


class reading_from_replica:  # noqa: N801 (a context manager read as a phrase: `with reading_from_replica():`)
    """Within it, reads go to the replica as the router says (until the first write)."""

    def __enter__(self):
        self._token = _scope.set([False])
        return self

    def __exit__(self, *exc_info):
        _scope.reset(self._token)
        return False


def _streamed_from_replica(content):
    """A streamed response's body is produced after the view returned: keep its reads on the replica."""
    with reading_from_replica():
        yield from content


class planned_for_their_parameters:  # noqa: N801 (a context manager read as a phrase)
    """Within it, PostgreSQL connections prepare no statement, so that each query is planned for its
    own parameters.

    psycopg prepares a statement a connection has run PG_PREPARE_THRESHOLD times (settings), and
    after five runs of a prepared statement PostgreSQL may keep one generic plan, made without the
    parameters' values. For the short statements of a sign-for that plan is the same and saves the
    planning. For a list page it is not: 收文's tabs at 10^5 deliveries took 200-240 ms with generic
    plans against 90-130 ms planned for their unit and moment (bench/scale_lists.py, issue 18). The
    switch is psycopg's own (the connection's prepare_threshold): no statement is sent for it."""

    def __enter__(self):
        self._saved = []
        for alias in connections:
            wrapper = connections[alias]
            # Not yet connected (a replica before the view's first read): it prepares nothing before
            # a statement's fifth run, which a page does not reach.
            if wrapper.vendor != "postgresql" or wrapper.connection is None:
                continue
            # Two aliases may share one connection (the tests' mirrored replica): save it once.
            if any(raw is wrapper.connection for raw, _threshold in self._saved):
                continue
            self._saved.append((wrapper.connection, wrapper.connection.prepare_threshold))
            wrapper.connection.prepare_threshold = None
        return self

    def __exit__(self, *exc_info):
        for raw, threshold in self._saved:
            if not raw.closed:
                raw.prepare_threshold = threshold
        return False


def reads_from_replica(view):
    """Mark a read-only view: its reads go to the replica (when there is one; see the module), each
    planned for its parameters (planned_for_their_parameters)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with reading_from_replica(), planned_for_their_parameters():
            response = view(request, *args, **kwargs)
        if getattr(response, "streaming", False) and replica_configured():
            response.streaming_content = _streamed_from_replica(response.streaming_content)
        return response

    return wrapped
