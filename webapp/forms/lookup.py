"""Look-up fields: a field over something that grows, chosen by typing (see
services/lookup.py and templates/macros/lookup.html)."""

from __future__ import annotations


class LookupFields:
    """A form with look-up fields (templates/macros/lookup.html): for each, a hidden field
    `name` with the id the typeahead chose (or a link names) and a text field `name_q`
    with what the field shows or what was typed by hand."""

    def remember_sent(self, formdata) -> None:
        self._sent = formdata if formdata is not None else {}

    def sent(self, name: str) -> tuple[str | None, str | None]:
        """A look-up field as sent: the id, and the text (None when the text was not sent,
        as from a link naming the row by id)."""
        typed = (self[f"{name}_q"].data or "") if f"{name}_q" in self._sent else None
        return self[name].data or None, typed

    def show(self, name: str, chosen, label) -> None:
        """Show the chosen row in its field (its label and id), or what was typed."""
        if chosen.one is not None:
            self[name].data, self[f"{name}_q"].data = str(chosen.one.id), label(chosen.one)
        else:
            self[name].data = ""
