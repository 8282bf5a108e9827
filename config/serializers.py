from collections.abc import Mapping

from rest_framework import serializers


class RejectUnknownFieldsMixin:
    """A field the client sent that it may not write is a 400 naming it, not silently dropped.

    Without this, `PATCH {"status": "posted"}` or a misspelt `"tittle"` answers 200 and changes
    nothing, which leaves an API client guessing.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is unknown or read-only."] for name in unknown}
                )
        return super().to_internal_value(data)


MAX_ID = 2**63 - 1  # the largest id a database column can hold; beyond it SQLite overflows (a 500)


class IdField(serializers.IntegerField):
    """A row id given by a client: a positive integer a database can compare."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)
