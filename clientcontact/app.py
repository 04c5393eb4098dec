"""The ASGI application: routers listed explicitly, errors mapped to HTTP once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from clientcontact import web
from clientcontact.api import (
    auth,
    channels,
    contacts,
    conversations,
    dev,
    health,
    inbound_events,
    inboxes,
    invitations,
    messages,
    tags,
)
from clientcontact.api import teams as teams_api
from clientcontact.api.error_docs import document_errors
from clientcontact.api.errors import RequestContext, install_error_handlers
from clientcontact.runtime import Runtime, build_runtime
from clientcontact.settings import Settings
from clientcontact.webhooks import routes as webhooks
from clientcontact.webhooks.intake import Intake
from clientcontact.webhooks.redaction import redact_access_log

ROUTERS = [
    webhooks.router,  # providers' callbacks at /api/webhooks: first, the busiest to match
    health.router,
    auth.router,
    contacts.router,
    conversations.router,
    messages.router,
    inboxes.router,
    channels.router,
    teams_api.router,
    invitations.router,
    tags.router,
    dev.router,
    inbound_events.router,
    web.router,  # the agent UI at /
]


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Build the app; the in-process worker runs only if the settings ask for it."""
    settings.check_providers()
    runtime = runtime or build_runtime(settings)
    intake = Intake(runtime)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        redact_access_log()  # the server's logging is set up by now
        if settings.run_worker_in_process:
            runtime.runner.start_thread()
        try:
            yield
        finally:
            runtime.runner.stop()
            intake.close()

    # /docs is served by web/api_docs.py: from our own origin, with the UI's security headers.
    app = FastAPI(title="ClientContact", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
                  description="One inbox for a business's email, SMS and WhatsApp conversations.")
    app.state.runtime = runtime
    app.state.intake = intake
    for router in ROUTERS:
        app.include_router(router)
    document_errors(app, ROUTERS)
    install_error_handlers(app)
    app.add_middleware(RequestContext, max_body_bytes=settings.max_request_bytes)
    return app
