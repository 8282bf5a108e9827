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
