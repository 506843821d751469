"""Ops commands beyond running processes: accounts, jobs run by hand, demo data.

Each opens its own session on the configured database and commits its one unit of work; the
jobs call the same functions the Celery tasks do.
"""

from __future__ import annotations

import sys

import click

from service.config import Settings


def _session(current: Settings):
    from service.db import make_engine, make_session_factory

    return make_session_factory(make_engine(current.database_url))()


@click.group()
def accounts() -> None:
    """Accounts: create one from the command line."""


@accounts.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when left out (or read from stdin).")
@click.option("--display-name", default=None)
@click.option("--coach", is_flag=True,
              help="Also print a personal access token with the coach scopes and an invite.")
def accounts_create(email: str, password: str, display_name: str | None, coach: bool) -> None:
    """Create an account (any account can coach and be coached).

    Backstride has no separate admin role: operators act through this command line, which holds
    the database credentials.
    """
    from service.clock import utcnow
    from service.domain.accounts import registration as rules
    from service.domain.accounts import scopes, tokens
    from service.domain.accounts.passwords import make_hasher
    from service.domain.accounts.tokens import TokenPolicy
    from service.domain.coaching import links as coaching
    from service.domain.errors import DomainError

    current = Settings.from_env()
    with _session(current) as session:
        try:
            account = rules.register(session, make_hasher(current.password_profile),
                                     email=email, password=password)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        account.display_name = display_name
        session.flush()
        lines = [f"created {account.email} ({account.id})"]
        if coach:
            policy = TokenPolicy(current.secret_key, current.access_token_ttl_s,
                                 current.refresh_token_ttl_s, current.personal_token_max_days)
            issued = tokens.create_personal_token(
                session, policy, account, name="coach scripts",
                scopes=[scopes.COACH_READ, scopes.COACH_WRITE, scopes.PAIN_READ],
                expires_in_days=90, now=utcnow())
            invite, code = coaching.create_invite(session, account, utcnow())
            lines += [f"personal access token (coach scopes; shown once): {issued.token}",
                      f"invite code for an athlete (until {invite.expires_at:%Y-%m-%d}): {code}"]
        session.commit()
    click.echo("\n".join(lines))


@click.group()
def demo() -> None:
    """Demo data for a first look."""


@demo.command("seed")
def demo_seed() -> None:
    """Fill the database with demo athletes, their stories, and their coach."""
    from service.cli import demo as stories
    from service.clock import utcnow
    from service.domain.accounts import first_party
    from service.domain.accounts.passwords import make_hasher

    current = Settings.from_env()
    with _session(current) as session:
        try:
            seeded = stories.seed(session, make_hasher(current.password_profile), utcnow(),
                                  weekly_threshold=current.weekly_jump_threshold)
        except stories.DemoExists as error:
            raise click.ClickException(str(error)) from None
        first_party.ensure_dashboard(session, utcnow(), current.public_url)
        session.commit()
    click.echo(f"coach: {seeded.coach_email} (sign in at /coach/)")
    for email, story in seeded.athletes.items():
        click.echo(f"athlete: {email}: {story}")
    written = ", ".join(f"{kind} {n}" for kind, n in sorted(seeded.notifications.items()))
    click.echo(f"password for all: {stories.PASSWORD}; nightly analysis wrote {written}")


@click.command("reminders")
def jobs_reminders() -> None:
    """Write the stretch reminders that are due now (what beat runs every minute)."""
    from workers.tasks.reminders import sweep

    click.echo(f"reminders sweep: {sweep()}")


@click.command("push-sweep")
def jobs_push_sweep() -> None:
    """Plan and send the pushes that are due now, and put back stuck ones."""
    from workers.tasks.push import sweep

    click.echo(f"push sweep: {sweep()}", file=sys.stdout)
