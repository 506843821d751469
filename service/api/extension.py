"""flask-smorest's Api and Blueprint, subclassed once for every resource to share.

- every error is an RFC 9457 problem document, and documented as one;
- `Blueprint.auth_required(scope)` authenticates and documents the security and the 401/403;
- `Blueprint.operation(id)` gives each operation the explicit, stable operationId that generated
  clients name their methods after, and documents its 429 (service.api.limits);
- `Blueprint.if_match()` / `if_none_match()` document conditional requests;
- `Blueprint.arguments()` documents the 400 a request body that is not JSON gets;
- `Blueprint.read_only()` marks a view that only reads, for the read-only session
  (service.api.context.db);
- `Blueprint.strict_limit()` and `failed_sign_ins_per_email()` mark the views held to the
  stricter rate limit (service.api.limits);
- `Blueprint.sends_etag()` documents the ETag of a view's answers (`if_match()` and
  `if_none_match()` imply it).

Whatever decorators an operation has, its documentation also says
(`Blueprint._prepare_contract_doc`): an operation without `auth_required` is public
(`security: []`); every answer carries X-Request-ID (service.api.observe), every answer of a
rate-limited operation the RateLimit-* headers, a 429 or 503 Retry-After.
"""

from __future__ import annotations

import functools
import http
from collections.abc import Callable
from typing import Any

import flask_smorest
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from service.api import conditional, context, idempotency, limits, observe, problems
from service.api.security import authenticate
from service.domain.accounts.scopes import SESSION_ONLY
from service.domain.errors import DomainError

BEARER = "bearerAuth"
OAUTH2 = "oauth2"  # an app's token (service.api.oauth), holding the scopes the athlete granted
# Header components, named as flask-smorest names its ETAG: `X-Request-ID` is X_REQUEST_ID.
HEADER_DOCS: dict[str, dict[str, Any]] = {
    observe.REQUEST_ID_HEADER: observe.REQUEST_ID_DOC,
    **limits.HEADERS_DOC,
    "Retry-After": limits.RETRY_AFTER_DOC,
    "WWW-Authenticate": {"description": 'With a refused token: `Bearer error="invalid_token"`.',
                         "schema": {"type": "string"}},
}
REPLAYED_HEADER = {"description": "`true` when this is the stored answer to an earlier request "
                                  "with the same Idempotency-Key.",
                   "schema": {"type": "string", "enum": ["true"]}}
# The suffix of the error responses of operations that are never rate limited (the probes).
NOT_RATE_LIMITED = "_NOT_RATE_LIMITED"
# Keys of a view's `_apidoc`, read by `Blueprint._prepare_contract_doc`.
_SENDS_ETAG = "backstride_sends_etag"
_IDEMPOTENT = "backstride_idempotent"


def location(what: str) -> dict[str, Any]:
    """The `headers` of an answer that names a URL in Location: `@blp.response(..., headers=)`."""
    return {"Location": {"description": f"The URL of {what}.", "required": True,
                         "schema": {"type": "string", "format": "uri-reference"}}}


def header_component(name: str) -> str:
    return name.upper().replace("-", "_")


def response_headers(*, limited: bool) -> dict[str, str]:
    """The headers on every answer (by component id), with the RateLimit-* ones if limited."""
    names = [observe.REQUEST_ID_HEADER, *(limits.HEADERS_DOC if limited else ())]
    return {name: header_component(name) for name in names}


class Api(flask_smorest.Api):
    ERROR_SCHEMA = problems.ProblemSchema

    def _register_responses(self) -> None:
        """Like flask-smorest's, but error responses are `application/problem+json`, with headers.

        Each is registered twice, lazily: by its name for the rate-limited operations, with the
        RateLimit-* headers, and with the suffix NOT_RATE_LIMITED, without them, for the others.
        """
        for name, doc in HEADER_DOCS.items():  # first: a response's refs register them
            self.spec.components.header(header_component(name), doc, lazy=True)
        self.spec.components.schema(problems.FIELD_ERRORS, problems.FIELD_ERRORS_SCHEMA)
        for status in http.HTTPStatus:
            self._register_error_response(status.name, status.phrase, status)
        self._register_error_response(self.DEFAULT_ERROR_RESPONSE_NAME, "Default error response")

    def _register_error_response(self, name: str, description: str,
                                 status: int | None = None) -> None:
        for limited in (True, False):
            response: dict[str, Any] = {"description": description,
                                        "headers": response_headers(limited=limited)}
            if status is None or (not 100 <= status < 200 and status not in (204, 304)):
                response["schema"] = self.ERROR_SCHEMA
            if status in (None, 429, 503):  # the default answer may be a database's 503
                response["headers"]["Retry-After"] = header_component("Retry-After")
            if status == 401:
                response["headers"]["WWW-Authenticate"] = header_component("WWW-Authenticate")
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(name if limited else name + NOT_RATE_LIMITED,
                                          response, lazy=True)

    def _register_etag_headers(self) -> None:
        """Like flask-smorest's, but If-Match is optional, as the server treats it."""
        self.spec.components.parameter("IF_MATCH", "header", conditional.IF_MATCH_DOC, lazy=True)
        self.spec.components.parameter("IF_NONE_MATCH", "header", conditional.IF_NONE_MATCH_DOC,
                                       lazy=True)
        self.spec.components.header("ETAG", conditional.ETAG_DOC, lazy=True)

    def _register_pagination_header(self) -> None:
        """Nothing: lists page by cursor in the body (service.api.pagination), never with
        flask-smorest's X-Pagination header, whose PaginationMetadata would be an unused schema."""

    def _register_error_handlers(self) -> None:
        super()._register_error_handlers()
        self._app.register_error_handler(DomainError, problems.from_domain_error)
        self._app.register_error_handler(DBAPIError, problems.from_database_error)
        self._app.register_error_handler(StaleDataError, problems.from_stale_data)

    def handle_http_exception(self, error):  # type: ignore[override]
        return problems.from_http_exception(error)


class Blueprint(flask_smorest.Blueprint):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_contract_doc)

    def _prepare_contract_doc(self, doc: dict[str, Any], doc_info: dict[str, Any],
                              **kwargs: Any) -> dict[str, Any]:
        """What every operation's documentation says whatever its decorators (run last).

        - without `auth_required` it is public: `security: []`, so clients send no token;
        - every answer declares X-Request-ID; a rate-limited operation's also RateLimit-*,
          an error answer's by referring to the variant of the error response that has them;
        - with `sends_etag()`, its 2xx answers with a body and its 304 declare ETag;
        - with `idempotent()`, its 2xx answers declare Idempotent-Replayed;
        - a 429 or 503 of its own declares Retry-After, as the shared ones do.
        """
        manual = doc_info.get("manual_doc", {})  # merged into `doc` after the callbacks
        if "security" not in manual:
            doc["security"] = []
        limited = self.name not in limits.EXEMPT_BLUEPRINTS
        for responses in (doc.get("responses", {}), manual.get("responses", {})):
            for status, response in responses.items():
                if isinstance(response, str):  # an error response, by name
                    responses[status] = response if limited else response + NOT_RATE_LIMITED
                    continue
                headers = response.setdefault("headers", {})
                headers.update(response_headers(limited=limited))
                code = str(status)
                with_body = code.startswith("2") and "content" in response
                if doc_info.get(_SENDS_ETAG) and (with_body or code == "304"):
                    headers["ETag"] = "ETAG"
                if doc_info.get(_IDEMPOTENT) and code.startswith("2"):
                    headers["Idempotent-Replayed"] = REPLAYED_HEADER
                if code in ("429", "503"):
                    headers["Retry-After"] = header_component("Retry-After")
        return doc

    def operation(self, operation_id: str) -> Callable:
        """Name the operation; the summary and description come from the view's docstring."""
        def decorator(view: Callable) -> Callable:
            view = self.doc(operationId=operation_id)(view)
            if self.name in limits.EXEMPT_BLUEPRINTS:
                return view
            return self.alt_response(429, response="TOO_MANY_REQUESTS")(view)

        return decorator

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Callable:
        """Like flask-smorest's; a JSON body also documents the 400 for one that is not JSON."""
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse

        def decorator(view: Callable) -> Callable:
            return self.alt_response(400, response="BAD_REQUEST")(parse(view))

        return decorator

    def auth_required(self, scope: str) -> Callable:
        def decorator(view: Callable) -> Callable:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                authenticate(scope)
                return view(*args, **kwargs)

            # Only OAuth2 schemes list scopes, so the bearer scheme's is named in an extension
            # too; an app's token (OAuth2) is the alternative wherever a scope is enough.
            security: list[dict[str, list[str]]] = [{BEARER: []}]
            if scope != SESSION_ONLY:
                security.append({OAUTH2: [scope]})
            wrapper = self.doc(security=security, **{"x-required-scope": scope})(wrapper)
            wrapper = self.alt_response(401, response="UNAUTHORIZED")(wrapper)
            return self.alt_response(403, response="FORBIDDEN")(wrapper)

        return decorator

    def read_only(self) -> Callable:
        """Mark a view that never writes, so it runs on the read-only session.

        Unmarked views get the writing session, so forgetting this costs a little speed, never a
        write outside a transaction. Do not mark a read that writes as a side effect (a coach's
        read and its access log): the read-only session refuses writes, and `commit()` with it.
        """
        return _marker(context.READ_ONLY)

    def strict_limit(self) -> Callable:
        """Hold the view to the strict per-address budget (`BACKSTRIDE_RATELIMIT_AUTH`).

        For every write that tests a secret or mints one: signing up and in, refreshing, an
        invite code, a new personal token, a password (service.api.limits). Its 429 is documented
        by `operation()`, as every limited operation's is.
        """
        return _marker(limits.STRICT)

    def failed_sign_ins_per_email(self) -> Callable:
        """Also count the view's failed sign-ins (401s) per email tried (service.api.limits)."""
        return _marker(limits.FAILED_SIGN_INS_PER_EMAIL)

    def idempotent(self) -> Callable:
        """Accept an Idempotency-Key (see service.api.idempotency); below auth_required."""
        def decorator(view: Callable) -> Callable:
            view = self.doc(parameters=[idempotency.HEADER_DOC])(idempotency.idempotent(view))
            return _doc_flag(view, _IDEMPOTENT)

        return decorator

    def sends_etag(self) -> Callable:
        """Document the ETag header the view's answers with a body carry (conditional.etag_header).
        """
        return lambda view: _doc_flag(view, _SENDS_ETAG)

    def if_match(self) -> Callable:
        """Document the optional If-Match of a write, its 412 (`conditional.existing()`) and the
        ETag of its answers."""
        def decorator(view: Callable) -> Callable:
            view = self.doc(parameters=["IF_MATCH"])(view)
            view = self.alt_response(412, response="PRECONDITION_FAILED")(view)
            return _doc_flag(view, _SENDS_ETAG)

        return decorator

    def if_none_match(self) -> Callable:
        """Document the ETag of a read and the 304 for a matching If-None-Match."""
        def decorator(view: Callable) -> Callable:
            view = self.doc(parameters=["IF_NONE_MATCH"])(view)
            view = self.alt_response(304, description="Not modified")(view)
            return _doc_flag(view, _SENDS_ETAG)

        return decorator


def _doc_flag(view: Callable, name: str) -> Callable:
    """Set `name` in the view's documentation info, for `Blueprint._prepare_contract_doc`."""
    view._apidoc = {**getattr(view, "_apidoc", {}), name: True}  # type: ignore[attr-defined]
    return view


def _marker(name: str) -> Callable:
    """A decorator that sets attribute `name` on the view function, read at request time."""
    def decorator(view: Callable) -> Callable:
        setattr(view, name, True)
        return view

    return decorator
