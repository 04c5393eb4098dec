"""The agent web UI: server-rendered pages and htmx fragments over the domain services.

Every route here shares one CSRF check and one check of form text; pages carry a strict
Content-Security-Policy.
"""

from fastapi import APIRouter, Depends

from clientcontact.web import (
    account,
    actions,
    admin,
    api_docs,
    attachments,
    auth,
    compose,
    contacts,
    conversation,
    events,
    inbox,
    invitations,
    static,
)
from clientcontact.web.form_text import refuse_unstorable_form_text
from clientcontact.web.security import require_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf),
                                                          Depends(refuse_unstorable_form_text)])
for module in (static, api_docs, auth, invitations, account, inbox, conversation, compose,
               actions, contacts, events, attachments, admin):
    router.include_router(module.router)
