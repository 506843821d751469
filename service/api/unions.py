"""Documenting a field that holds one of several shapes as an OpenAPI `oneOf` with a discriminator.

marshmallow has no union field, and apispec documents an unknown field as any object. A field
that names its variants (`union`: discriminator value to Schema) and the property that tells them
apart (`discriminator`) is documented here as what it is, so generated clients get one typed
variant per value (TypeScript's discriminated unions, zod's `z.discriminatedUnion`).
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from marshmallow import fields


def document(api: flask_smorest.Api) -> None:
    """Teach the api's spec to document union fields; call before registering blueprints."""
    api.ma_plugin.converter.add_attribute_function(_union_properties)


def _union_properties(converter: Any, field: fields.Field, ret: dict[str, Any],
                      **_kwargs: Any) -> dict[str, Any]:
    union = getattr(field, "union", None)
    if not union:
        return {}
    # The variants say what the object is; "any object" beside them would say the opposite.
    ret.pop("type", None)
    ret.pop("additionalProperties", None)
    refs = {value: converter.resolve_nested_schema(schema) for value, schema in union.items()}
    return {
        "oneOf": list(refs.values()),
        "discriminator": {"propertyName": field.discriminator,
                          "mapping": {value: ref["$ref"] for value, ref in refs.items()}},
    }
