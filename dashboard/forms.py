"""Validation of query strings and kill forms: bad input gets a clear 400, changes nothing."""

from __future__ import annotations

from typing import Any

from django import forms

from sessions_core.validation import ID_MAX_LENGTH, IP_MAX_LENGTH

from .templatetags.dashboard import from_id_ref

# Windows of the soapp table: 1 min ... 30 days, as the issue asks.
WINDOWS: list[tuple[int, str]] = [
    (60, "1 min"),
    (600, "10 min"),
    (3600, "1 h"),
    (86400, "24 h"),
    (7 * 86400, "7 days"),
    (30 * 86400, "30 days"),
]
DEFAULT_WINDOW = 3600
# How the sessions table's id search matches: the id itself, or ids starting with it.
MATCHES = [("exact", "exact id"), ("prefix", "id starts with")]
ORDERS = [("newest", "newest first"), ("oldest", "oldest first")]
WINDOW_NAMES = dict(WINDOWS)


class _IdField(forms.CharField):
    """A user id exactly as typed: not stripped, at most ID_MAX_LENGTH characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=ID_MAX_LENGTH, strip=False, **kwargs)


class TableQuery(forms.Form):
    """The soapp table's state: window, page, and an optional exact user id search."""

    window = forms.TypedChoiceField(
        choices=WINDOWS,
        coerce=int,
        required=False,
        empty_value=DEFAULT_WINDOW,  # type: ignore[arg-type]
    )
    page = forms.IntegerField(min_value=1, max_value=10**6, required=False)
    q = _IdField(required=False, label="User id")
    match = forms.ChoiceField(choices=MATCHES, required=False)
    # An ip, or the start of one followed by '*' (10.0.*).
    ip = forms.CharField(required=False, max_length=IP_MAX_LENGTH + 1, strip=True, label="IP")
    order = forms.ChoiceField(choices=ORDERS, required=False)

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if data.get("q") and data.get("ip"):
            raise forms.ValidationError("Search by user id or by IP, not both.")
        return data

    def state(self) -> dict[str, Any]:
        data = self.cleaned_data
        q = data["q"] or ""
        return {
            "window": data["window"],
            "page": data["page"] or 1,
            "q": q,
            "match": data.get("match") or "exact" if q else "exact",
            "ip": data.get("ip") or "",
            "order": data.get("order") or "newest",
        }


class _IdOrRef(forms.Form):
    """A user id, as text (`id`) or as the opaque `ref` the dashboard's own pages send
    (`id_ref`): any id a page shows can be addressed, NUL and invalid UTF-8 included."""

    id = _IdField(required=False)
    ref = forms.CharField(max_length=4 * ID_MAX_LENGTH * 4 // 3 + 4, required=False)  # base64

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        if data.get("ref"):
            id = from_id_ref(data["ref"])
            if id is None:
                self.add_error("ref", "This is not a user id reference.")
            data["id"] = id
        if not data.get("id") and not self.has_error("ref"):
            self.add_error("id", "This field is required.")
        return data


# The pages a kill returns to: the app's table, the id's page in the app, or the id in every app.
BACK_TO = [("app", "app"), ("user", "user"), ("everywhere", "everywhere")]


class EverywhereQuery(_IdOrRef):
    """The cross-app user page: the id, searched for in every app."""


class KillEverywhereForm(_IdOrRef):
    confirm = forms.BooleanField(
        required=True, error_messages={"required": "Tick the box to confirm."}
    )


# The apps table's sortable columns: the app name, its counts, and its active users per window.
APP_COLUMNS = ["app", "sessions", "users", *(f"active-{w}" for w, _ in WINDOWS[:4])]


class AppsQuery(forms.Form):
    """The apps table's order: any column, either way (default: by name, A to Z)."""

    sort = forms.ChoiceField(choices=[(c, c) for c in APP_COLUMNS], required=False)
    order = forms.ChoiceField(choices=[("asc", "asc"), ("desc", "desc")], required=False)

    def order_by(self) -> tuple[str, bool]:
        """The column and whether it is descending."""
        data = self.cleaned_data
        return data.get("sort") or "app", data.get("order") == "desc"


class UserQuery(_IdOrRef):
    """The user page's state: the id, and the page of its sessions."""

    page = forms.IntegerField(min_value=1, max_value=10**6, required=False)


class KillSessionForm(_IdOrRef, TableQuery):
    handle = forms.RegexField(regex=r"^[0-9a-f]{1,64}$")
    back = forms.ChoiceField(choices=BACK_TO, required=False)


class KillUserForm(_IdOrRef, TableQuery):
    confirm = forms.BooleanField(
        required=True, error_messages={"required": "Tick the box to confirm."}
    )
    back = forms.ChoiceField(choices=[("app", "app"), ("user", "user")], required=False)


class KillAppForm(TableQuery):
    confirm = forms.CharField(strip=True, max_length=100)

    def __init__(self, *args: Any, app: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"]
        if value != self.app:
            raise forms.ValidationError("Type the app name exactly to confirm.")
        return value


def errors_text(form: forms.Form) -> str:
    """A form's errors as one line for a message or a 400 page."""
    parts = []
    for field, errors in form.errors.items():
        label = "" if field == "__all__" else f"{field}: "
        parts.append(label + " ".join(str(e) for e in errors))
    return "; ".join(parts)
