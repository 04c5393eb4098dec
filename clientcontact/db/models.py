"""Every table, imported once so metadata is complete for migrations and tests."""

from clientcontact.accounts.models import (
    Account,
    Agent,
    ApiToken,
    Invitation,
    LoginSession,
    Membership,
    Team,
    TeamMember,
)
from clientcontact.canned.models import CannedResponse
from clientcontact.contacts.models import Contact, ContactIdentity
from clientcontact.conversations.models import Attachment, Conversation, Message, Tag
from clientcontact.conversations.reads import ConversationRead
from clientcontact.db.base import Base
from clientcontact.inboxes.models import Inbox
from clientcontact.ingest.models import InboundEventRow
from clientcontact.jobs.models import Job

__all__ = [
    "Account", "Agent", "ApiToken", "Attachment", "Base", "CannedResponse", "Contact",
    "ContactIdentity", "Conversation", "ConversationRead", "InboundEventRow", "Inbox",
    "Invitation", "Job", "LoginSession", "Membership", "Message", "Tag", "Team", "TeamMember",
]
