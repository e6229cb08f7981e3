"""Errors the services raise; views turn them into messages, the API into problem details."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """A request the domain refuses; `message` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(DomainError):
    def __init__(self, from_status: str | None, to_status: str) -> None:
        self.from_status = from_status
        self.to_status = to_status
        if from_status is None:
            message = f"A new registration cannot start as {to_status}."
        else:
            message = f"This registration is {from_status} and cannot become {to_status}."
        super().__init__(message)


class RegistrationClosed(DomainError):
    pass


class AlreadyRegistered(DomainError):
    pass


class StaleDecision(DomainError):
    """The registration changed since the user looked at it (someone else decided):
    its `status` now, who moved it there (`by`, None for the system) and `at` when."""

    def __init__(self, message: str, *, status: str | None = None, by: str | None = None,
                 at: datetime | None = None) -> None:
        super().__init__(message)
        self.status, self.by, self.at = status, by, at


class RegistrationRefused(DomainError):
    pass


class NoSeat(DomainError):
    """Approving would exceed the capacity, a partner's quota or a company's cap."""


class AnswersRefused(DomainError):
    """Answers that do not satisfy the event's questions: `problems` by question id."""

    def __init__(self, problems: dict[int, str], message: str = "") -> None:
        self.problems = problems
        super().__init__(message or "Some answers need your attention.")


class BulkRefused(DomainError):
    """A bulk decision refused as a whole: `problems` says why, by registration id."""

    def __init__(self, problems: dict[int, str], message: str = "") -> None:
        self.problems = problems
        super().__init__(message or "Nothing was applied: some applications cannot be decided "
                         "this way.")
