"""The `clientcontact` command: serve, worker, migrate, create-admin, seed-demo,
replay-inbound.

Configuration mistakes end the command with one clear line, never a traceback.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import select

from clientcontact.accounts import service as accounts
from clientcontact.accounts.models import Account, Agent, Role
from clientcontact.db.migrate import upgrade
from clientcontact.db.scope import unit_of_work
from clientcontact.db.tenancy import Actor
from clientcontact.delivery.channel_status import InboxHealth, channel_report
from clientcontact.demo import ensure_demo, published_logins
from clientcontact.errors import ClientContactError, ConfigurationError
from clientcontact.inboxes.service import ensure_default_inboxes
from clientcontact.ingest.jobs import handle_event
from clientcontact.ingest.service import event_account, failed_event_ids
from clientcontact.runtime import Runtime, build_runtime
from clientcontact.settings import Settings

log = logging.getLogger("clientcontact")
cli = typer.Typer(help="ClientContact: a unified inbox for email, SMS and WhatsApp.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
F = TypeVar("F", bound=Callable[..., Any])


def _friendly(command: F) -> F:
    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ConfigurationError, ClientContactError) as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]).upper()
            typer.secho(f"error: {where}: {problem['msg']}", fg="red", err=True)
            raise typer.Exit(2) from None

    return run  # type: ignore[return-value]


def _runtime() -> Runtime:
    settings = Settings()
    settings.check_providers()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The Twilio SDK logs ten lines of every request at INFO: noise in a worker's log, and
    # about a tenth of its CPU per message. Its failures reach us as exceptions.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    return build_runtime(settings)


@cli.command()
@_friendly
def migrate() -> None:
    """Bring the database schema to the latest migration."""
    runtime = _runtime()
    upgrade(runtime.engine)
    typer.echo("database is at the latest migration")


# How `serve` runs uvicorn (bench/inbound.py serves its limit apps the same way). The event
# loop and HTTP parser are uvicorn's defaults: uvloop and httptools, from uvicorn[standard].
# Browsers hold /events streams open for ever; on Ctrl+C give requests 3 s, then stop.
UVICORN_OPTIONS: dict[str, Any] = {"log_level": "info", "timeout_graceful_shutdown": 3}


@cli.command()
@_friendly
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Migrate, make sure a demo login exists (demo deployments only), then serve the API, the
    UI and the worker."""
    import uvicorn

    from clientcontact.app import create_app

    runtime = _runtime()
    settings = runtime.settings
    upgrade(runtime.engine)
    with unit_of_work(runtime.factory) as session:
        demo = ensure_demo(session, settings) if settings.demo_deployment else None
        published = [] if settings.demo_deployment else published_logins(session)
        has_agents = session.scalar(select(Agent.id).limit(1)) is not None
    app = create_app(settings, runtime)
    typer.echo(f"\nClientContact is running at http://{host}:{port}/  (API docs at /docs)")
    if demo and demo.password:
        typer.echo(f"Log in as {demo.email} with password {demo.password}")
    elif not has_agents:
        typer.echo("No admin yet: create the first one with `clientcontact create-admin`")
    if published:
        log.warning("SECURITY: the demo login(s) %s still have the published password. This "
                    "server has real providers or an https PUBLIC_URL, so it refuses them. "
                    "Create a real admin with `clientcontact create-admin` and deactivate the "
                    "demo agents (SEED_DEMO=true only for a deliberate demo).",
                    ", ".join(published))
    if settings.run_worker_in_process:
        typer.echo("Delivery worker: inside this process")
    # What start-up built (modules, the app, its routes: about 200,000 objects) lives as long as
    # the process. Frozen, it is left out of full garbage collections, which under a stream of
    # webhooks otherwise ran about once a second and held the GIL for about 100 ms each,
    # stalling every request in flight.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, **UVICORN_OPTIONS, **proxy_options(settings))


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For from loopback unless told otherwise, and anyone on the
    machine (or a proxy passing the header through) can forge it: only TRUSTED_PROXIES may
    name the client."""
    trusted = settings.trusted_proxies.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


@cli.command()
@_friendly
def worker() -> None:
    """Deliver queued messages; run as many as you like against PostgreSQL."""
    runtime = _runtime()
    signal.signal(signal.SIGTERM, lambda *_: runtime.runner.stop())
    typer.echo("worker started; Ctrl-C to stop")
    try:
        runtime.runner.run_forever()
    except KeyboardInterrupt:
        runtime.runner.stop()


@cli.command("create-admin")
@_friendly
def create_admin(
    email: Annotated[str, typer.Option(prompt=True)],
    name: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)],
    account: Annotated[str, typer.Option(help="name of the new account")] = "My Company",
) -> None:
    """Create an account with its first admin (and the default inboxes from the environment)."""
    runtime = _runtime()
    upgrade(runtime.engine)
    with unit_of_work(runtime.factory) as session:
        new_account = accounts.create_account(session, account)
        agent = accounts.create_agent(session, email=email, name=name, password=password)
        accounts.add_member(session, new_account, agent, Role.ADMIN)
        actor = Actor(account_id=new_account.id, agent_id=agent.id, role=Role.ADMIN.value)
        ensure_default_inboxes(session, actor, runtime.settings)
    typer.echo(f"created account {account!r} (id {new_account.id}) with admin {agent.email}")


@cli.command("seed-demo")
@_friendly
def seed_demo() -> None:
    """Create the demo account, inboxes, contacts and conversations (on an empty database)."""
    runtime = _runtime()
    upgrade(runtime.engine)
    with unit_of_work(runtime.factory) as session:
        login = ensure_demo(session, runtime.settings)
    if not login.created:
        typer.echo("the database already has accounts; nothing seeded")
        return
    typer.echo(f"demo created: log in as {login.email} with password {login.password}")
    if not runtime.settings.demo_deployment:
        typer.secho("but this server refuses that published password (real providers or an "
                    "https PUBLIC_URL); set SEED_DEMO=true to run it as a demo", fg="yellow")


@cli.command("replay-inbound")
@_friendly
def replay_inbound(
    event_id: Annotated[int | None, typer.Option("--id", help="this inbound event")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed",
                                             help="every event that failed")] = False,
) -> None:
    """Handle stored inbound events again, once what made them fail is fixed."""
    if (event_id is None) == (not all_failed):
        raise ClientContactError("give either --id N or --all-failed")
    runtime = _runtime()
    with unit_of_work(runtime.factory) as session:
        targets = (failed_event_ids(session) if all_failed
                   else [(event_id, event_account(session, event_id))])
    failed = 0
    for target, account_id in targets:
        if account_id is None:
            raise ClientContactError(f"there is no inbound event {target}")
        outcome = handle_event(runtime.runner.runtime, target, account_id=account_id)
        failed += not outcome.handled
        typer.echo(f"event {target}: " + ("handled" if outcome.handled
                                           else f"failed again: {outcome.error}"))
    typer.echo(f"{len(targets) - failed} of {len(targets)} inbound events handled")
    if failed:
        raise typer.Exit(1)


# The `channels` table: heading and how each cell reads from an inbox's health.
CHANNEL_COLUMNS: dict[str, Callable[[InboxHealth], object]] = {
    "account": lambda h: h.account_id,
    "inbox": lambda h: f"{h.inbox_id} {h.name}",
    "channel": lambda h: h.channel.value,
    "provider": lambda h: h.provider,
    "configured": lambda h: "yes" if h.configured else "NO",
    "credentials": lambda h: {True: "valid", False: "INVALID", None: "unknown"}[
        h.credentials_valid],
    "last sent": lambda h: f"{h.queue.last_sent_at:%Y-%m-%d %H:%M}" if h.queue.last_sent_at
    else "never",
    "queued": lambda h: h.queue.queue_depth,
    "failed 1h": lambda h: h.queue.failures_last_hour,
    "oldest queued": lambda h: f"{h.oldest_queued_age_seconds:.0f} s"
    if h.oldest_queued_age_seconds is not None else "-",
}


@cli.command()
@_friendly
def channels(
    account: Annotated[int | None, typer.Option(help="only this account's inboxes")] = None,
    check: Annotated[bool, typer.Option(help="prove each inbox's credentials")] = True,
) -> None:
    """Each inbox's provider, credentials and delivery queue: can it send, is it keeping up?"""
    runtime = _runtime()
    with unit_of_work(runtime.factory) as session:
        ids = [account] if account is not None else list(
            session.scalars(select(Account.id).order_by(Account.id)))
        report = [health for account_id in ids
                  for health in channel_report(session, account_id, runtime.adapters,
                                               check=check)]
    rows = [[str(cell(h)) for cell in CHANNEL_COLUMNS.values()] for h in report]
    typer.echo(_table(list(CHANNEL_COLUMNS), rows))
    for health in report:
        if health.detail:
            typer.echo(f"inbox {health.inbox_id}: {health.detail}")


def _table(headings: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(c) for c in column) for column in zip(headings, *rows, strict=False)]
    lines = [headings, ["-" * w for w in widths], *rows]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def main() -> None:
    sys.exit(cli())


if __name__ == "__main__":
    main()
