"""What a parent types on the account pages, checked: the registration form, emails, postcodes.

Each problem is a plain-English sentence for the parent, keyed by the field it belongs to.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
)

from core.text import has_visible_text, trim

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.][^@\s]*\.[^@\s.]{2,}$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
EMAIL_PROBLEM = "Please enter a full email address, like name@example.com."
POSTCODE_PROBLEM = "Please enter a UK postcode, like WR5 2YA."
PASSWORDS_DIFFER = (
    "The two passwords are not the same. Please type your password again in both boxes."
)


def normalise_email(value: str) -> str:
    """Trimmed and lower-case. Raises ValueError (with a message for the parent) if not an email."""
    v = (value or "").strip().lower()
    if len(v) > 254 or not _EMAIL.match(v) or not v.isprintable():
        raise ValueError(EMAIL_PROBLEM)
    return v


def normalise_postcode(value: str) -> str:
    """A UK postcode, checked loosely, upper-case with one space: "wr52ya" -> "WR5 2YA"."""
    v = re.sub(r"\s+", "", (value or "").upper())
    if v == "GIR0AA":
        return "GIR 0AA"
    m = _POSTCODE.match(v)
    if not m:
        raise ValueError(POSTCODE_PROBLEM)
    return f"{m.group(1)} {m.group(2)}"


Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptText100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None

LABELS = {
    "forename": "forename",
    "surname": "surname",
    "house": "house number or name",
    "street": "street",
    "area": "area",
    "town": "town",
    "postcode": "postcode",
    "email": "email address",
    "password": "password",
    "confirm_password": "password again",
}


class RegistrationForm(BaseModel):
    """The guide's registration fields (no "professional capacity" box). Required: forename,
    surname, street, town, postcode, email, password."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    forename: Text100
    surname: Text100
    house: OptText100 = None
    street: Text200
    area: OptText100 = None
    town: Text100
    postcode: str
    email: str
    password: SecretStr
    confirm_password: SecretStr | None = None

    @field_validator("forename", "surname", "house", "street", "area", "town", mode="before")
    @classmethod
    def _visible(cls, v: Any) -> Any:
        """Spaces and invisible characters (zero-width spaces, joiners, fillers...) at either end
        go; a value of nothing else is empty: "Please enter your forename"."""
        if not isinstance(v, str):
            return v
        return trim(v) if has_visible_text(v) else ""

    @field_validator("house", "area", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not has_visible_text(v) else v

    @field_validator("forename", "surname", "house", "street", "area", "town")
    @classmethod
    def _printable(cls, v: str | None) -> str | None:
        if v is not None and not v.isprintable():
            raise ValueError("Please use letters, numbers and ordinary punctuation only.")
        return v

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, v: str) -> str:
        return normalise_postcode(v)

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        return normalise_email(v)

    def address(self) -> dict[str, str | None]:
        return {
            "forename": self.forename,
            "surname": self.surname,
            "house": self.house,
            "street": self.street,
            "area": self.area,
            "town": self.town,
            "postcode": self.postcode,
        }


def form_errors(exc: ValidationError) -> dict[str, list[str]]:
    """The form's problems, field by field, as sentences for the parent."""
    out: dict[str, list[str]] = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err.get("loc") else "form"
        label = LABELS.get(name, name)
        kind = err.get("type", "")
        if kind in ("missing", "string_too_short"):
            msg = f"Please enter your {label}."
        elif kind == "string_too_long":
            msg = f"Your {label} is too long (at most {err.get('ctx', {}).get('max_length')} characters)."
        elif kind == "value_error":
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
        else:
            msg = f"Please check your {label}."
        out.setdefault(name, []).append(msg)
    return out

