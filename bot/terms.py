"""The workflow's words, one list each: roles, proposal moves and the states things are in.

StrEnums, so each is written once and still compares, stores and prints as its plain string;
light (no database), so the command line can offer them as choices without loading models.
"""

from enum import StrEnum


class Role(StrEnum):
    """Who a person is in the activation procedure (admins may do anything)."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    HC = "hc"
    ERC = "erc"
    PARTNER = "partner"


class MoveName(StrEnum):
    """A move of the activation procedure (bot/domain/proposals.py: who may make it, and when)."""

    SUBMIT = "submit"
    FORWARD = "forward"
    ENDORSE = "endorse"
    RETURN = "return"
    PLAN_DEACTIVATION = "plan_deactivation"
    DEACTIVATE = "deactivate"

    @property
    def command(self) -> str:
        """How the shell writes it: `clusterbot proposals plan-deactivation`."""
        return self.value.replace("_", "-")


class ProposalStatus(StrEnum):
    """Where a proposal is in the procedure."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    FORWARDED = "forwarded"
    RETURNED = "returned"
    ENDORSED = "endorsed"
    ANNOUNCED = "announced"


class ClusterStatus(StrEnum):
    """Where one of a proposal's clusters is, once the proposal is endorsed."""

    ACTIVE = "active"  # endorsed: the cluster works
    DEACTIVATION_PLANNED = "deactivation_planned"  # a coordinator or the HC plans its end
    DEACTIVATED = "deactivated"  # the HC deactivated it


class NotificationStatus(StrEnum):
    """What became of an outbox row."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # undeliverable: the destination is gone
    DEAD = "dead"  # too many failed tries


class EventStatus(StrEnum):
    """What became of an inbox event."""

    PENDING = "pending"  # stored, to be answered (leased while a worker answers it)
    DONE = "done"  # answered
    DEAD = "dead"  # answering it failed too often: set aside


class ChecklistStatus(StrEnum):
    """Where an activation checklist is."""

    OPEN = "open"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
