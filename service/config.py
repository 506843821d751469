"""Settings from the environment, one object shared by the API, the workers and the CLI.

Every setting is read once, at start-up, and a missing or malformed one stops the process with a
single line naming it (``ConfigError``), rather than a stack trace minutes later in a worker.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from limits import parse_many

PREFIX = "BACKSTRIDE_"
# The weekly increase that earns a caution, the one definition of it: every use case is handed
# the setting (docs/design.md, "Weekly jump": Nielsen et al. 2014; 0.10 for the "10 % rule").
WEEKLY_JUMP_THRESHOLD = 0.30
T = TypeVar("T")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str
    redis_url: str | None
    secret_key: str
    access_token_ttl_s: int
    refresh_token_ttl_s: int
    personal_token_max_days: int
    max_content_length: int
    import_max_bytes: int
    import_max_activities_per_file: int
    import_max_activities: int
    import_max_attempts: int
    purge_interval_s: int
    password_profile: str
    beat_schedule_file: Path
    nightly_hour: int
    nightly_chunk_size: int
    dispatch_interval_s: int
    reminder_interval_s: int
    weekly_jump_threshold: float
    webpush_hosts: tuple[str, ...]
    expo_push_url: str
    expo_access_token: str | None
    push_timeout_s: int
    push_stuck_after_s: int
    vapid_private_key: str | None
    vapid_subject: str
    push_ca_bundle: str | None
    push_allow_loopback: bool
    webhook_timeout_s: int
    webhook_sweep_interval_s: int
    webhook_stuck_after_s: int
    webhook_concurrency: int
    webhook_ca_bundle: str | None
    webhook_allow_loopback: bool
    fcm_project_id: str | None
    fcm_service_account_file: str | None
    fcm_url: str
    apns_key_file: str | None
    apns_key_id: str | None
    apns_team_id: str | None
    apns_topic: str | None
    apns_url: str
    ratelimit_storage_url: str
    ratelimit_default: str
    ratelimit_auth: str
    ratelimit_sign_in_pair: str
    ratelimit_sign_in_account: str
    ratelimit_password_reset: str
    quota_push_devices: int
    quota_coach_invites: int
    quota_imports_in_flight: int
    quota_import_bytes_per_day: int
    smtp_host: str | None
    smtp_port: int
    mail_from: str
    password_reset_url: str
    password_reset_ttl_s: int
    proxy_hops: int
    public_url: str | None
    log_format: str
    worker_metrics_port: int

    @property
    def embedded(self) -> bool:
        """True on the one-command default: SQLite for data and for the broker."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        data_dir = Path(reader.get("DATA_DIR", str, "var")).resolve()
        database_url = normalise_database_url(
            reader.get("DATABASE_URL", str, f"sqlite:///{data_dir / 'backstride.sqlite'}")
        )
        broker_url = reader.get("BROKER_URL", str, f"sqla+sqlite:///{data_dir / 'broker.sqlite'}")
        if not broker_url.startswith(("redis://", "rediss://", "sqla+sqlite://")):
            raise ConfigError(
                f"{PREFIX}BROKER_URL must be redis://… or sqla+sqlite:///…, got {broker_url!r}"
            )
        redis_url = reader.get("REDIS_URL", str, None)
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://")):
            raise ConfigError(f"{PREFIX}REDIS_URL must start with redis://, got {redis_url!r}")
        password_profile = reader.get("PASSWORD_PROFILE", str, "default")
        if password_profile not in ("default", "cheapest"):
            raise ConfigError(
                f"{PREFIX}PASSWORD_PROFILE must be 'default' or 'cheapest' (tests only), "
                f"got {password_profile!r}"
            )
        settings = cls(
            data_dir=data_dir,
            database_url=database_url,
            broker_url=broker_url,
            redis_url=redis_url,
            secret_key="",
            access_token_ttl_s=reader.get("ACCESS_TOKEN_TTL_S", _positive_int, 15 * 60),
            refresh_token_ttl_s=reader.get("REFRESH_TOKEN_TTL_S", _positive_int, 30 * 86400),
            personal_token_max_days=reader.get("PERSONAL_TOKEN_MAX_DAYS", _positive_int, 366),
            max_content_length=reader.get("MAX_CONTENT_LENGTH", _positive_int, 2 * 1024 * 1024),
            # Activity file uploads only (POST /v1/imports): years of runs in one zip.
            import_max_bytes=reader.get("IMPORT_MAX_BYTES", _positive_int, 50 * 1024 * 1024),
            # Activities read from one file and from one upload: years of history fit, and an
            # import stays far inside its task's time limit.
            import_max_activities_per_file=reader.get("IMPORT_MAX_ACTIVITIES_PER_FILE",
                                                      _positive_int, 1000),
            import_max_activities=reader.get("IMPORT_MAX_ACTIVITIES", _positive_int, 5000),
            # Workers that may claim one import before it ends as failed (a poison file).
            import_max_attempts=reader.get("IMPORT_MAX_ATTEMPTS", _positive_int, 3),
            purge_interval_s=reader.get("PURGE_INTERVAL_S", _positive_int, 3600),
            password_profile=password_profile,
            beat_schedule_file=data_dir / "celerybeat-schedule",
            nightly_hour=reader.get("NIGHTLY_HOUR", _hour, 3),
            nightly_chunk_size=reader.get("NIGHTLY_CHUNK_SIZE", _positive_int, 1000),
            dispatch_interval_s=reader.get("DISPATCH_INTERVAL_S", _positive_int, 900),
            reminder_interval_s=reader.get("REMINDER_INTERVAL_S", _positive_int, 60),
            weekly_jump_threshold=reader.get("WEEKLY_JUMP_THRESHOLD", _fraction,
                                             WEEKLY_JUMP_THRESHOLD),
            webpush_hosts=reader.get("WEBPUSH_HOSTS", _host_list, WEBPUSH_HOSTS),
            expo_push_url=reader.get("EXPO_PUSH_URL", _url,
                                     "https://exp.host/--/api/v2/push/send"),
            expo_access_token=reader.get("EXPO_ACCESS_TOKEN", str, None),
            push_timeout_s=reader.get("PUSH_TIMEOUT_S", _positive_int, 10),
            # Measured from the moment a push began: longer than one push can take (checked below).
            push_stuck_after_s=reader.get("PUSH_STUCK_AFTER_S", _positive_int, 300),
            vapid_private_key=reader.get("VAPID_PRIVATE_KEY", str, None),
            vapid_subject=reader.get("VAPID_SUBJECT", _vapid_subject,
                                     "mailto:ops@backstride.invalid"),
            push_ca_bundle=reader.get("PUSH_CA_BUNDLE", str, None),
            # Tests only: their fake push services listen on 127.0.0.1 (workers/push/guard.py).
            push_allow_loopback=reader.get("PUSH_ALLOW_LOOPBACK", _boolean, False),
            # Webhooks (docs/webhooks.md): each request's timeout, how often beat sweeps for due
            # deliveries (the retry schedule's shortest wait is 5 s), when one begun by a worker
            # that died is sent again, and how many requests one worker process makes at once.
            webhook_timeout_s=reader.get("WEBHOOK_TIMEOUT_S", _positive_int, 15),
            webhook_sweep_interval_s=reader.get("WEBHOOK_SWEEP_INTERVAL_S", _positive_int, 5),
            webhook_stuck_after_s=reader.get("WEBHOOK_STUCK_AFTER_S", _positive_int, 60),
            webhook_concurrency=reader.get("WEBHOOK_CONCURRENCY", _positive_int, 8),
            webhook_ca_bundle=reader.get("WEBHOOK_CA_BUNDLE", str, None),
            # Tests only: their receivers listen on 127.0.0.1 (workers/push/guard.py).
            webhook_allow_loopback=reader.get("WEBHOOK_ALLOW_LOOPBACK", _boolean, False),
            fcm_project_id=reader.get("FCM_PROJECT_ID", str, None),
            fcm_service_account_file=reader.get("FCM_SERVICE_ACCOUNT_FILE", _existing_file, None),
            fcm_url=reader.get("FCM_URL", _url, "https://fcm.googleapis.com"),
            apns_key_file=reader.get("APNS_KEY_FILE", _existing_file, None),
            apns_key_id=reader.get("APNS_KEY_ID", str, None),
            apns_team_id=reader.get("APNS_TEAM_ID", str, None),
            apns_topic=reader.get("APNS_TOPIC", str, None),
            apns_url=reader.get("APNS_URL", _url, "https://api.push.apple.com"),
            ratelimit_storage_url=reader.get(
                "RATELIMIT_STORAGE_URL", _ratelimit_storage,
                _default_ratelimit_storage(redis_url, broker_url),
            ),
            ratelimit_default=reader.get("RATELIMIT_DEFAULT", _rate_limit, "300 per minute"),
            ratelimit_auth=reader.get("RATELIMIT_AUTH", _rate_limit, "10 per minute"),
            # Failed sign-ins for one email from one address, in widening windows: a guesser
            # waits a minute after 5, a quarter of an hour after 10, 4 hours after 20, a day
            # after 40 (exponential back-off in steps), while the owner elsewhere is untouched.
            ratelimit_sign_in_pair=reader.get(
                "RATELIMIT_SIGN_IN_PAIR", _rate_limit,
                "5 per minute; 10 per 15 minutes; 20 per 4 hours; 40 per day"),
            # Failed sign-ins for one email from every address together: far looser, only to
            # bound guessing spread over many addresses.
            ratelimit_sign_in_account=reader.get("RATELIMIT_SIGN_IN_ACCOUNT", _rate_limit,
                                                 "100 per hour"),
            # Reset emails asked for one address (whether or not it has an account).
            ratelimit_password_reset=reader.get("RATELIMIT_PASSWORD_RESET", _rate_limit,
                                                "3 per hour"),
            # Per-account quotas (docs/operations.md, "Security"): push targets registered,
            # coach invites open at once, imports queued or running, bytes imported a day.
            quota_push_devices=reader.get("QUOTA_PUSH_DEVICES", _positive_int, 10),
            quota_coach_invites=reader.get("QUOTA_COACH_INVITES", _positive_int, 50),
            quota_imports_in_flight=reader.get("QUOTA_IMPORTS_IN_FLIGHT", _positive_int, 3),
            quota_import_bytes_per_day=reader.get("QUOTA_IMPORT_BYTES_PER_DAY", _positive_int,
                                                  200 * 1024 * 1024),
            # Email (password resets): an SMTP relay; unset, no email is sent (and said so).
            smtp_host=reader.get("SMTP_HOST", str, None),
            smtp_port=reader.get("SMTP_PORT", _port, 25),
            mail_from=reader.get("MAIL_FROM", str, "Backstride <no-reply@backstride.invalid>"),
            # The page of the app that takes a reset token; {token} is replaced by it.
            password_reset_url=reader.get(
                "PASSWORD_RESET_URL", str,
                "https://app.backstride.invalid/reset-password?token={token}"),
            password_reset_ttl_s=reader.get("PASSWORD_RESET_TTL_S", _positive_int, 3600),
            proxy_hops=reader.get("PROXY_HOPS", _non_negative_int, 0),
            # Where the public reaches this API (https://api.example.org): the OAuth issuer, and
            # the coach dashboard's redirect there. Unset, both follow the request's own address.
            public_url=reader.get("PUBLIC_URL", _public_url, None),
            log_format=reader.get("LOG_FORMAT", _log_format, "json"),
            # Off by default: two workers on one machine would fight over one port.
            worker_metrics_port=reader.get("WORKER_METRICS_PORT", _port, 0),
        )
        if settings.push_stuck_after_s <= settings.push_timeout_s:
            raise ConfigError(f"{PREFIX}PUSH_STUCK_AFTER_S must be longer than "
                              f"{PREFIX}PUSH_TIMEOUT_S, or a push still under way is sent twice")
        if settings.webhook_stuck_after_s <= settings.webhook_timeout_s:
            raise ConfigError(f"{PREFIX}WEBHOOK_STUCK_AFTER_S must be longer than "
                              f"{PREFIX}WEBHOOK_TIMEOUT_S, or a webhook still under way is "
                              "sent twice")
        secret_key = reader.get("SECRET_KEY", str, None)
        if secret_key is None:
            if not settings.embedded:
                raise ConfigError(f"{PREFIX}SECRET_KEY is required when the database is not SQLite")
            secret_key = _embedded_secret_key(data_dir)
        if len(secret_key) < 32:
            raise ConfigError(f"{PREFIX}SECRET_KEY must be at least 32 characters long")
        return replace(settings, secret_key=secret_key)


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme ops wrote."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ConfigError(
            f"{PREFIX}DATABASE_URL must be sqlite:///… or postgresql://…, got {url!r}"
        )
    return url


def _embedded_secret_key(data_dir: Path) -> str:
    """On the embedded default, keep a generated key beside the data so `make run` needs nothing.

    The key survives restarts (tokens stay valid) and never leaves the machine; production databases
    require an explicit BACKSTRIDE_SECRET_KEY instead.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _default_ratelimit_storage(redis_url: str | None, broker_url: str) -> str:
    """Counters go where the API processes can share them: the Redis named for it, else the
    broker's Redis; only the embedded default (one process, no Redis) counts in memory."""
    if redis_url:
        return redis_url
    if broker_url.startswith(("redis://", "rediss://")):
        return broker_url
    return "memory://"


def _ratelimit_storage(raw: str) -> str:
    if not raw.startswith(("memory://", "redis://", "rediss://")):
        raise ValueError("must be memory:// or redis://…")
    return raw


def _rate_limit(raw: str) -> str:
    """Checked now with flask-limiter's own parser, so a typo stops start-up, not a request."""
    try:
        items = parse_many(raw)
    except ValueError:
        raise ValueError("must read like '300 per minute' or '10/minute; 100/hour'") from None
    if any(item.amount < 1 for item in items):
        raise ValueError("must allow at least one request")
    return raw


WEBPUSH_HOSTS = ("fcm.googleapis.com", "updates.push.services.mozilla.com", "*.push.apple.com",
                 "*.notify.windows.com")


def _host_list(raw: str) -> tuple[str, ...]:
    """Host names (`*.` for any subdomain); `host:port` admits that port on that host alone."""
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    if not hosts or any(set(h) & set("/ @\\?#") for h in hosts):
        raise ValueError("must be a comma-separated list of host names")
    return hosts


def _existing_file(raw: str) -> str:
    if not Path(raw).is_file():
        raise ValueError("no such file")
    return raw


def _vapid_subject(raw: str) -> str:
    if not raw.startswith(("mailto:", "https://")):
        raise ValueError("must be a mailto: or https: contact (RFC 8292)")
    return raw


def _url(raw: str) -> str:
    if not raw.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return raw


def _public_url(raw: str) -> str:
    parts = urlsplit(raw)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError("must be an https:// origin (http:// only on loopback)")
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise ValueError("must be an origin only: scheme, host and port, no path")
    return f"{parts.scheme}://{parts.netloc}"


def _log_format(raw: str) -> str:
    if raw not in ("json", "console"):
        raise ValueError("must be 'json' (for log shippers) or 'console' (for people)")
    return raw


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("must be a TCP port, or 0 for off")
    return value


def _hour(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 23:
        raise ValueError("must be an hour from 0 to 23")
    return value


def _fraction(raw: str) -> float:
    value = float(raw)
    if not 0 < value < 5:
        raise ValueError("must be a fraction such as 0.30 (30 %)")
    return value


def _boolean(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.env.get(PREFIX + name)
        if raw is None or raw == "":
            return default
        try:
            return parse(raw)
        except ValueError as error:
            raise ConfigError(f"{PREFIX}{name} is malformed ({raw!r}): {error}") from None
