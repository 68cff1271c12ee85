"""Staff roles and the one table of what each may do.

Every page, API route and command asks ``can(role, action)``; nothing else
decides who may do what, so the API's role-by-endpoint test reads this table.

- ``admin``: everything, and the only role that manages staff, reads the audit
  log or erases a person's data.
- ``organizer``: surveys and campaigns (upload, open and close, compose, preview,
  schedule, pause, cancel), audience counts and the aggregated results of what
  they ran; no exports, no free text, no moderation.
- ``analyst``: aggregated results (small cells suppressed) and exports; free
  text only once moderators approved it, masked; never who anyone is.
- ``moderator``: the moderation queue (ideas and free text, masked, without
  authors), approve or reject, mute or ban.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from polls.errors import OutreachError


class Role(StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"
    ANALYST = "analyst"
    MODERATOR = "moderator"


class Action(StrEnum):
    DASHBOARD_READ = "dashboard.read"
    """The dashboard; each of its panels also asks for its own action."""
    ACCOUNT_SELF = "account.self"
    """One's own password and API tokens."""
    SURVEYS_READ = "surveys.read"
    SURVEYS_UPLOAD = "surveys.upload"
    """Upload and validate YAML or XLSForm survey files."""
    SURVEYS_CLOSE = "surveys.close"
    """Open and close surveys."""
    CAMPAIGNS_READ = "campaigns.read"
    """Campaigns and their delivery progress."""
    CAMPAIGNS_CREATE = "campaigns.create"
    """Compose, edit a draft, preview audience and cost."""
    CAMPAIGNS_SCHEDULE = "campaigns.schedule"
    """Schedule, pause, resume, cancel: what makes messages leave."""
    RESPONDENTS_COUNT = "respondents.count"
    """How many people by channel, region, language: counts only."""
    RESULTS_READ = "results.read"
    """Aggregated results with small cells suppressed."""
    RESULTS_TEXT = "results.text"
    """Approved free text, masked, without authors."""
    EXPORTS_CREATE = "exports.create"
    RESPONDENTS_FIND = "respondents.find"
    """Find a person by pseudonymous id, to handle an erasure request."""
    RESPONDENTS_ERASE = "respondents.erase"
    MODERATION_READ = "moderation.read"
    """The moderation queue: pending ideas and free text, masked."""
    MODERATION_ACT = "moderation.act"
    """Approve, reject, mute, ban."""
    STAFF_MANAGE = "staff.manage"
    AUDIT_READ = "audit.read"


class UnknownActionError(OutreachError):
    """An action missing from the permission table: add it there (roles.PERMISSIONS)."""


class UnknownRoleError(OutreachError):
    """A role name that is none of ours."""


ADMIN, ORGANIZER, ANALYST, MODERATOR = Role.ADMIN, Role.ORGANIZER, Role.ANALYST, Role.MODERATOR
EVERYONE = frozenset(Role)

PERMISSIONS: Mapping[Action, frozenset[Role]] = {
    Action.DASHBOARD_READ: EVERYONE,
    Action.ACCOUNT_SELF: EVERYONE,
    Action.SURVEYS_READ: EVERYONE,
    Action.SURVEYS_UPLOAD: frozenset({ADMIN, ORGANIZER}),
    Action.SURVEYS_CLOSE: frozenset({ADMIN, ORGANIZER}),
    Action.CAMPAIGNS_READ: frozenset({ADMIN, ORGANIZER}),
    Action.CAMPAIGNS_CREATE: frozenset({ADMIN, ORGANIZER}),
    Action.CAMPAIGNS_SCHEDULE: frozenset({ADMIN, ORGANIZER}),
    Action.RESPONDENTS_COUNT: frozenset({ADMIN, ORGANIZER, ANALYST}),
    Action.RESULTS_READ: frozenset({ADMIN, ORGANIZER, ANALYST}),
    Action.RESULTS_TEXT: frozenset({ADMIN, ANALYST, MODERATOR}),
    Action.EXPORTS_CREATE: frozenset({ADMIN, ANALYST}),
    Action.RESPONDENTS_FIND: frozenset({ADMIN}),
    Action.RESPONDENTS_ERASE: frozenset({ADMIN}),
    Action.MODERATION_READ: frozenset({ADMIN, MODERATOR}),
    Action.MODERATION_ACT: frozenset({ADMIN, MODERATOR}),
    Action.STAFF_MANAGE: frozenset({ADMIN}),
    Action.AUDIT_READ: frozenset({ADMIN}),
}

assert set(PERMISSIONS) == set(Action), "every action needs a row in PERMISSIONS"
assert all(ADMIN in roles for roles in PERMISSIONS.values()), "admin may do everything"


def known_action(action: Action | str) -> Action:
    """``action`` as an Action; a name missing from the table is a mistake, not a denial."""
    try:
        return Action(action)
    except ValueError:
        raise UnknownActionError(
            f"{action!r} is not in the permission table: add it to outreach.console.roles"
        ) from None


def can(role: Role | str, action: Action | str) -> bool:
    """Whether a staff member with ``role`` may do ``action``; unknown roles may do nothing."""
    allowed = PERMISSIONS[known_action(action)]
    try:
        return Role(role) in allowed
    except ValueError:
        return False


def actions_for(role: Role | str) -> frozenset[Action]:
    """Everything ``role`` may do (for menus: show only what works)."""
    return frozenset(action for action in Action if can(role, action))


def parse_role(value: str) -> Role:
    """``value`` as a Role, or an error that lists the roles there are."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise UnknownRoleError(f"{value!r} is not a role: use one of {', '.join(Role)}") from None
