"""Shoes: the pairs an athlete runs in."""

from __future__ import annotations

import uuid
from datetime import date

from flask import url_for
from flask.views import MethodView

from service.api.conditional import check_if_match, etag_header, etag_of
from service.api.context import commit, db, now
from service.api.extension import Blueprint, location
from service.api.pagination import page_schema, paginate
from service.api.security import current_account
from service.domain.accounts import scopes
from service.domain.calendar import local_date
from service.domain.shoes import records as shoe_records
from service.models import Shoe

from .schemas import (
    RetireSchema,
    ShoeChangeSchema,
    ShoeCreateSchema,
    ShoeListArgsSchema,
    ShoeSchema,
)

blp = Blueprint("shoes", __name__, url_prefix="/v1/shoes", description="Your running shoes.")


def today() -> date:
    return local_date(now(), current_account().timezone)


def shown(shoe: Shoe, status: int = 200):
    """The shoe with its distance and age, and its ETag."""
    (state,) = shoe_records.states(db(), [shoe], today())
    return state, status, etag_header(shoe.version)


def _track() -> None:
    """A pair whose status this write moved is a shoe.status_changed webhook event."""
    shoe_records.track_statuses(db(), [current_account().id], today(), now())


@blp.route("")
class Shoes(MethodView):
    @blp.operation("listShoes")
    @blp.read_only()
    @blp.auth_required(scopes.SHOES_READ)
    @blp.arguments(ShoeListArgsSchema, location="query")
    @blp.response(200, page_schema(ShoeSchema))
    def get(self, args):
        """List your shoes

        Newest first; retired pairs only with `include_retired=true`.
        """
        statement = shoe_records.listing(current_account(), include_retired=args["include_retired"])
        page = paginate(db(), statement, order=(Shoe.created_at, Shoe.id),
                        cursor=args["cursor"], limit=args["limit"])
        return {"items": shoe_records.states(db(), page.items, today()),
                "next_cursor": page.next_cursor}

    @blp.operation("createShoe")
    @blp.auth_required(scopes.SHOES_WRITE)
    @blp.idempotent()
    @blp.sends_etag()
    @blp.arguments(ShoeCreateSchema)
    @blp.response(201, ShoeSchema, headers=location("the new pair"))
    def post(self, fields):
        """Add a pair of shoes

        `first_used_on` defaults to today; limits default to 800 km and 365 days.
        """
        fields.setdefault("first_used_on", today())
        shoe = shoe_records.create(db(), current_account(), fields, today())
        _track()
        commit()
        state, status, headers = shown(shoe, 201)
        return state, status, {**headers, "Location": url_for("shoes.ShoeById", shoe_id=shoe.id)}


@blp.route("/<uuid:shoe_id>")
class ShoeById(MethodView):
    @blp.operation("getShoe")
    @blp.read_only()
    @blp.auth_required(scopes.SHOES_READ)
    @blp.if_none_match()
    @blp.response(200, ShoeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, shoe_id: uuid.UUID):
        """Read a pair of shoes

        Its distance, age, wear and when to replace it, with its ETag.
        """
        return shown(shoe_records.get_owned(db(), current_account(), shoe_id))

    @blp.operation("updateShoe")
    @blp.auth_required(scopes.SHOES_WRITE)
    @blp.if_match()
    @blp.arguments(ShoeChangeSchema)
    @blp.response(200, ShoeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, shoe_id: uuid.UUID):
        """Change a pair of shoes

        Only the fields you send change; send the ETag you read to keep another phone's change.
        """
        shoe = shoe_records.get_owned(db(), current_account(), shoe_id)
        check_if_match(etag_of(shoe.version))
        shoe_records.change(db(), shoe, changes, today())
        _track()
        commit()
        return shown(shoe)

    @blp.operation("deleteShoe")
    @blp.auth_required(scopes.SHOES_WRITE)
    @blp.if_match()
    @blp.response(204)
    @blp.alt_response(200, schema=ShoeSchema, description="The pair had runs and was retired.")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, shoe_id: uuid.UUID):
        """Delete a pair of shoes

        A pair with runs keeps its history: it is retired instead, and returned.
        """
        shoe = shoe_records.get_owned(db(), current_account(), shoe_id)
        check_if_match(etag_of(shoe.version))
        deleted = shoe_records.delete_or_retire(db(), shoe, now())
        _track()
        commit()
        if deleted:
            return "", 204
        state, status, headers = shown(shoe)
        return ShoeSchema().dump(state), status, headers  # 204's decorator does not serialise


@blp.route("/<uuid:shoe_id>/retire")
class ShoeRetirement(MethodView):
    @blp.operation("retireShoe")
    @blp.auth_required(scopes.SHOES_WRITE)
    @blp.sends_etag()
    @blp.arguments(RetireSchema)
    @blp.response(200, ShoeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body, shoe_id: uuid.UUID):
        """Retire a pair of shoes

        Retired pairs keep their runs, leave the list and stop getting reminders.
        """
        shoe = shoe_records.get_owned(db(), current_account(), shoe_id)
        shoe_records.retire(shoe, body.get("retired_at", now()), now())
        _track()
        commit()
        return shown(shoe)


@blp.route("/<uuid:shoe_id>/inspected")
class ShoeInspected(MethodView):
    @blp.operation("markShoeInspected")
    @blp.auth_required(scopes.SHOES_WRITE)
    @blp.sends_etag()
    @blp.response(200, ShoeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")  # a retired pair
    def post(self, shoe_id: uuid.UUID):
        """Looked at them, still fine

        The inspect reminder comes back after another 20 % of the distance limit or 60 days.
        """
        shoe = shoe_records.get_owned(db(), current_account(), shoe_id)
        shoe_records.mark_inspected(db(), shoe, today())
        _track()
        commit()
        return shown(shoe)
