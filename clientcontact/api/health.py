"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from clientcontact.api.deps import AppRuntime
from clientcontact.db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive; says nothing about its dependencies."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database does not answer, "
                                                        "or its schema is not the latest"}})
def readyz(runtime: AppRuntime) -> JSONResponse:
    """Ready when the database answers and its schema is at the latest migration."""
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revision(runtime.engine)
    except SQLAlchemyError as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc.__class__.__name__)},
                            status_code=503)
    head = head_revision()
    if current != head:
        return JSONResponse({"status": "unavailable", "migrations": {"current": current,
                                                                     "head": head}},
                            status_code=503)
    return JSONResponse({"status": "ok", "migrations": {"current": current, "head": head}})
