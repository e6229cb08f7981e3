"""The typeahead of look-up fields: JSON matches, only for those who may use the field
where it is (the desk's events, the members a manager applies for, the organizations a
manager reviews, every account for admins)."""

from __future__ import annotations

from tests.matrix import LOGIN, SIGNED_IN_200, Case, statuses

MANAGERS = dict(manager_a=200, manager_b=200, organizer=200, admin=200)

CASES = [
    Case("lookup.events", "visible events", "GET", lambda w: "/lookup/events?q=mission",
         SIGNED_IN_200),
    Case("lookup.desk_events", "the desk's events", "GET",
         lambda w: "/lookup/desk-events?q=mission",
         statuses(200, anonymous=LOGIN, member=403, other_member=403)),
    Case("lookup.open_events", "events to apply to on a member's behalf", "GET",
         lambda w: "/lookup/open-events?q=mission",
         statuses(403, anonymous=LOGIN, manager_a=200, manager_b=200, organizer=200)),
    Case("lookup.members", "members", "GET", lambda w: "/lookup/members?q=ab",
         statuses(403, anonymous=LOGIN, manager_a=200, manager_b=200, organizer=200)),
    Case("lookup.organizations", "organizations", "GET",
         lambda w: "/lookup/organizations?q=ab", statuses(403, anonymous=LOGIN, **MANAGERS)),
    Case("lookup.users", "accounts", "GET", lambda w: "/lookup/users?q=ab",
         statuses(403, anonymous=LOGIN, admin=200)),
]
