"""The access matrix, area by area.

Each module here describes the endpoints of one area for `tests/test_access.py`:
`CASES`, a list of `Case`, and optionally `build(make, users, base) -> dict`, which creates
(once per test module, committed) the objects its cases need and returns their ids;
cases read them from `world.extra`. `users` maps each role to its User; `base` holds the
shared objects (clusters, beachheads, the event, the draft, the organizations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = (
    "anonymous", "member", "other_member", "manager_a", "manager_b",
    "organizer", "host", "other_host", "admin",
)
LOGIN = "login"  # expected: redirect to the sign-in page


@dataclass(frozen=True)
class World:
    users: dict[str, str]  # role -> Flask-Login session id
    user_ids: dict[str, int]
    event_slug: str
    draft_slug: str
    own_reg: int  # member's approved registration (cluster A)
    other_reg: int  # another applicant's submitted registration (cluster B)
    names: dict[str, str]
    ids: dict[str, int]  # the shared objects' ids, by the names of `base`
    extra: dict[str, Any] = field(default_factory=dict)


def statuses(default: Any, **by_role: Any) -> dict[str, Any]:
    return {role: by_role.get(role, default) for role in ROLES}


SIGNED_IN_200 = statuses(200, anonymous=LOGIN)
ADMIN_ONLY = statuses(403, anonymous=LOGIN, admin=200)


@dataclass(frozen=True)
class Case:
    endpoint: str
    label: str
    method: str
    path: Callable[[World], str]
    expected: dict[str, Any]
    data: Callable[[World], dict] | None = None
