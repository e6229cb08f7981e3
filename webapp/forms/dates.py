"""Typed dates and local times on forms, by the rules of `webapp.localtime`.

A `LocalTimeField` is a datetime-local input with, when the clocks pass its time twice
in the form's zone, a companion choice ("which 02:30?") posted as `<name>_offset` with
the chosen UTC offset ("+02:00"). The field hands the service a naive local time, or the
time with that offset attached once it is chosen; the service (`localtime.instant_of`)
refuses a repeated time without one. `Within` keeps a date field inside its window.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from wtforms import DateTimeLocalField
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from .. import localtime

# The HTML datetime-local input sends "2027-03-10T09:00" (seconds when the step allows).
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class LocalTimeField(DateTimeLocalField):
    """A wall-clock time of the form's zone, and the UTC offset chosen for it if any."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("format", LOCAL_FORMATS)
        super().__init__(*args, **kwargs)
        self.chosen_offset: timedelta | None = None

    @property
    def offset_name(self) -> str:
        return f"{self.name}_offset"

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata is not None and self.offset_name in formdata:
            self.chosen_offset = localtime.parse_offset(formdata.get(self.offset_name))
        elif isinstance(self.data, datetime) and self.data.tzinfo is not None:
            # A stored instant shown again: its own offset is the choice already made.
            self.chosen_offset = self.data.utcoffset()
            self.data = self.data.replace(tzinfo=None, fold=0)

    def repeated_offsets(self, zone_name: str | None) -> tuple[timedelta, ...]:
        """The two offsets to choose from when the clocks pass this time twice, else ()."""
        return localtime.repeated_offsets(self.data, zone_name)

    def offset_choices(self, zone_name: str | None) -> list[tuple[str, str, bool]]:
        """(value, label, selected) for the "which one?" choice; [] when there is none."""
        offsets = self.repeated_offsets(zone_name)
        return [(localtime.offset_code(o), localtime.instant_option(o, offsets),
                 o == self.chosen_offset) for o in offsets]

    def value_in(self, zone_name: str | None) -> datetime | None:
        """The local time for the service: with the chosen offset when the time occurs
        twice (a choice left over from an earlier time that no longer repeats is
        dropped, as the page no longer offers it), else naive."""
        if self.data is None:
            return None
        if self.chosen_offset in self.repeated_offsets(zone_name):
            return self.data.replace(tzinfo=timezone(self.chosen_offset))
        return self.data


class Within:
    """A date field's validator: the day lies in `window` (a year 1 or 9999 is refused
    here, before anything computes with it)."""

    def __init__(self, window: localtime.DateWindow) -> None:
        self.window = window

    def __call__(self, form, field) -> None:
        if field.data is not None and not self.window.holds(field.data):
            raise StopValidation(self.window.refusal())
