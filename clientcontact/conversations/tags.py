"""Tags: an account's own vocabulary for sorting conversations."""

from __future__ import annotations

from sqlalchemy.orm import Session

from clientcontact.conversations.models import Tag
from clientcontact.db.tenancy import Actor, get_scoped, scoped
from clientcontact.errors import BadRequest, Conflict


def clean_tag_name(name: str) -> str:
    cleaned = " ".join(name.strip().lower().split())
    if not cleaned or len(cleaned) > 60:
        raise BadRequest("a tag name must be 1 to 60 characters")
    return cleaned


def list_tags(session: Session, actor: Actor) -> list[Tag]:
    return list(session.scalars(scoped(Tag, actor.account_id).order_by(Tag.name)))


def get_tag(session: Session, actor: Actor, tag_id: int) -> Tag:
    return get_scoped(session, Tag, tag_id, actor.account_id)


def create_tag(session: Session, actor: Actor, name: str, color: str | None = None) -> Tag:
    name = clean_tag_name(name)
    if tags_by_name(session, actor, [name], create=False):
        raise Conflict(f"tag {name!r} already exists")
    tag = Tag(account_id=actor.account_id, name=name, color=color)
    session.add(tag)
    session.flush()
    return tag


def tags_by_name(session: Session, actor: Actor, names: list[str], *, create: bool) -> list[Tag]:
    wanted = list(dict.fromkeys(clean_tag_name(n) for n in names))
    found = {t.name: t for t in session.scalars(
        scoped(Tag, actor.account_id).where(Tag.name.in_(wanted)))}
    if create:
        for name in wanted:
            if name not in found:
                found[name] = Tag(account_id=actor.account_id, name=name)
                session.add(found[name])
        session.flush()
    return [found[n] for n in wanted if n in found]


def delete_tag(session: Session, actor: Actor, tag_id: int) -> None:
    session.delete(get_tag(session, actor, tag_id))
    session.flush()
