"""The shipped JSON Schema of the result record, as one validator for every test."""

from __future__ import annotations

import jsonschema

from edge.records import schema

VALIDATOR = jsonschema.Draft202012Validator(schema())


def validate(record: object) -> None:
    """jsonschema.ValidationError unless ``record`` (parsed JSON) is a valid result record."""
    VALIDATOR.validate(record)
