"""Who may do what: the roles people hold, and granting them."""

from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from bot.core import ADDRESSES
from bot.db import insert_new
from bot.models import ROLES, User, utcnow


class NotAllowed(Exception):
    """The person's role does not allow what they asked; `roles` are those that do."""

    def __init__(self, what: str, roles: tuple[str, ...]) -> None:
        super().__init__(f"{what} needs one of these roles: {', '.join(roles)}")
        self.what = what
        self.roles = roles


def check_identity(identity: str) -> str:
    """`identity` when it names a person on a platform we serve, else ValueError saying how."""
    # How each platform writes a person: the shapes its adapter builds (bot/adapters/).
    forms = "; ".join(ADDRESSES.person_forms())
    if not identity.strip():
        raise ValueError(f"the identity is empty; write the person as one of: {forms}")
    platform, sep, _ = identity.partition(":")
    if not sep:
        plain = f" (in the terminal chat: console:{identity})" if " " not in identity else ""
        raise ValueError(
            f"{identity!r} has no platform prefix{plain}; write the person as one of: {forms}"
        )
    address = ADDRESSES.get(platform)
    if address is None or not address.person:
        raise ValueError(
            f"{platform!r} is not a platform we serve; write the person as one of: {forms}"
        )
    if not address.names_person(identity):
        raise ValueError(
            f"{identity!r} is not a {platform} identity; write it as {address.person_form}"
        )
    return identity


def user(session: Session, identity: str) -> User:
    """The user with `identity`, created (as a partner) on first sight, by an upsert.

    A new user's first messages arrive together: each may find no row, and only one insert
    wins; the others wait for it and read its row instead of failing on the unique key.
    """
    found = session.get(User, identity)
    if found is None:
        found = created(session, identity)
        if found is None:
            found = session.get(User, identity)
            assert found is not None
        else:
            session.add(found)
    return found


def created(session: Session, identity: str) -> User | None:
    """A new user (a partner) inserted in `session`, detached; None when it was there already.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING: concurrent first sights never fail, and
    the one that inserts has the row as a read would give it, without reading it back. The
    caller adds it to the session it uses (no query: it is known to be stored).
    """
    now = utcnow()
    row = {"identity": identity, "role": "partner", "created_at": now, "updated_at": now}
    stored = insert_new(session, User.__table__, row, ["identity"])  # type: ignore[attr-defined]
    if stored is None:
        return None
    new = User(**stored._mapping)
    make_transient_to_detached(new)  # as if loaded: no pending changes, an identity key
    return new


def require(person: User, what: str, roles: tuple[str, ...]) -> None:
    """Raise NotAllowed unless `person` holds one of `roles` (admins may do everything)."""
    if person.role != "admin" and person.role not in roles:
        raise NotAllowed(what, tuple(r for r in ROLES if r in roles or r == "admin"))


def grant(session: Session, identity: str, role: str, by: User | None = None) -> User:
    """Give `identity` the `role`; `by` (None from the shell) must be an admin in chat."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    if by is not None:
        require(by, "grant", ("admin",))
    target = user(session, identity)
    target.role = role
    target.updated_at = utcnow()
    session.add(target)
    return target


def everyone(session: Session) -> list[User]:
    """Every known user, those with a role other than partner first."""
    rows = session.exec(select(User).order_by(col(User.role), col(User.identity))).all()
    return sorted(rows, key=lambda u: (u.role == "partner", u.identity))


def holders(session: Session, *roles: str) -> list[User]:
    """The users holding any of `roles`."""
    return list(session.exec(select(User).where(col(User.role).in_(roles))).all())
