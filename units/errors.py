"""The base of every domain error: a clear message, in the user's language, naming the problem.

Services raise these before writing anything (or inside the transaction that then rolls back), so a
refused action leaves no row behind. Views show `message`; commands print it and exit non-zero.
"""


class DomainError(Exception):
    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    """Missing or not visible to this person: the two are deliberately indistinguishable."""

    code = "not_found"


class NotAllowed(DomainError):
    """Visible, but this person may not take this action for this unit."""

    code = "not_allowed"


class InvalidInput(DomainError):
    code = "invalid"


class Conflict(DomainError):
    """The action does not fit the object's current state (already issued, not yet signed for…)."""

    code = "conflict"


class Withdrawn(Conflict):
    """Recalled (撤回) from this person's unit: what remains for them is the stub, never the content.

    The doors (workflow.access) carry the stub's facts in `stub`; pages and the API show it instead
    of the object (HTTP 410 Gone).
    """

    code = "withdrawn"

    def __init__(self, message: str, *, stub=None) -> None:
        super().__init__(message)
        self.stub = stub


class Damaged(DomainError):
    """A record the database must hold is missing or contradicts another (a receipt deleted behind
    the application's back, its triggers switched off): the action stops and names the record,
    rather than answer as if nothing had happened. `verify_audit` reports the same damage."""

    code = "damaged"
