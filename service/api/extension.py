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
  stricter rate limit (service.api.limits).
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

from service.api import conditional, context, idempotency, limits, problems
from service.api.security import authenticate
from service.domain.errors import DomainError

BEARER = "bearerAuth"


class Api(flask_smorest.Api):
    ERROR_SCHEMA = problems.ProblemSchema

    def _register_responses(self) -> None:
        """Like flask-smorest's, but error responses are `application/problem+json`."""
        self.spec.components.schema(problems.FIELD_ERRORS, problems.FIELD_ERRORS_SCHEMA)
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            if status == 429:
                response["headers"] = limits.HEADERS_DOC
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, problems.MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)

    def _register_etag_headers(self) -> None:
        """Like flask-smorest's, but If-Match is optional, as the server treats it."""
        self.spec.components.parameter("IF_MATCH", "header", conditional.IF_MATCH_DOC, lazy=True)
        self.spec.components.parameter("IF_NONE_MATCH", "header", conditional.IF_NONE_MATCH_DOC,
                                       lazy=True)
        self.spec.components.header("ETAG", conditional.ETAG_DOC, lazy=True)

    def _register_error_handlers(self) -> None:
        super()._register_error_handlers()
        self._app.register_error_handler(DomainError, problems.from_domain_error)
        self._app.register_error_handler(DBAPIError, problems.from_database_error)
        self._app.register_error_handler(StaleDataError, problems.from_stale_data)

    def handle_http_exception(self, error):  # type: ignore[override]
        return problems.from_http_exception(error)


class Blueprint(flask_smorest.Blueprint):
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

            # OpenAPI 3.0 lets only OAuth2 schemes list scopes; name it in an extension instead.
            wrapper = self.doc(security=[{BEARER: []}], **{"x-required-scope": scope})(wrapper)
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
            return self.doc(parameters=[idempotency.HEADER_DOC])(idempotency.idempotent(view))

        return decorator

    def if_match(self) -> Callable:
        """Document the optional If-Match of a write and its 412 (`conditional.existing()`)."""
        def decorator(view: Callable) -> Callable:
            view = self.doc(parameters=["IF_MATCH"])(view)
            return self.alt_response(412, response="PRECONDITION_FAILED")(view)

        return decorator

    def if_none_match(self) -> Callable:
        """Document the ETag of a read and the 304 for a matching If-None-Match."""
        def decorator(view: Callable) -> Callable:
            view = self.doc(parameters=["IF_NONE_MATCH"])(view)
            return self.alt_response(304, description="Not modified")(view)

        return decorator


def _marker(name: str) -> Callable:
    """A decorator that sets attribute `name` on the view function, read at request time."""
    def decorator(view: Callable) -> Callable:
        setattr(view, name, True)
        return view

    return decorator
