"""Account administration in the UI: inboxes, agents, teams, API tokens, canned responses.

Forms post with htmx and the server answers with the whole admin page, from which htmx keeps
`#admin-main`; without JavaScript the same forms post normally.
"""

from fastapi import APIRouter

from clientcontact.web.admin import canned, inboxes, people, tokens

router = APIRouter()
for module in (inboxes, people, tokens, canned):
    router.include_router(module.router, prefix="/admin")
