"""Text a form sends is text a database must store: one check for every form of the UI, as
`inputs.PlainText` is for the API's bodies (the request context checks every query string)."""

from __future__ import annotations

from fastapi import Request

from clientcontact.errors import Unprocessable
from clientcontact.inputs import unstorable_character

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_unstorable_form_text(request: Request) -> None:
    """Router dependency: a NUL or an unpaired surrogate in any field or file name is a 422."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        return
    for name, value in (await request.form()).multi_items():
        problem = unstorable_character(value if isinstance(value, str) else value.filename or "")
        if problem is not None:
            raise Unprocessable(f"{name} must not contain {problem}")
