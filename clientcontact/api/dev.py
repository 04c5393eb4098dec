"""What the mock provider would have sent: a newcomer reads the email or SMS that 'left'."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from clientcontact.api.deps import AppRuntime, CurrentActor
from clientcontact.api.error_docs import error_responses
from clientcontact.channels.mock.sender import read_outbox
from clientcontact.errors import NotFound

router = APIRouter(prefix="/api/v1/dev", tags=["dev"])


@router.get("/outbox", responses=error_responses(404))
def outbox(actor: CurrentActor, runtime: AppRuntime,
           limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    """Newest first, this account's only. Exists only while a provider is `mock`."""
    settings = runtime.settings
    if "mock" not in (settings.email_service, settings.sms_service):
        raise NotFound("the dev outbox exists only while EMAIL_SERVICE or SMS_SERVICE is mock")
    return read_outbox(settings.data_dir / "mock-outbox.jsonl", actor.account_id, limit)
