"""The password policy, the blocklist of common passwords, and argon2id hashing.

The defaults are the council's policy (the guide): at least 15 characters; at least one letter,
one upper-case letter and one digit; only letters, digits, space and the special characters
``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~``; different from the current password and the previous 8.
On top of it: a maximum of 256 (long passphrases pass), a blocklist of common and breached
passwords, and no name or email inside. Every rule can be switched off, since NIST SP 800-63B-4
and OWASP ASVS 5 drop composition and history rules (`PasswordPolicy.nist()`).

Passwords are NFKC-normalised before they are checked or hashed (NIST 800-63B), so the same
passphrase typed on two keyboards (a composed or decomposed "é", a no-break space) is the same.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, Field, model_validator

SPECIAL_CHARACTERS = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
BLOCKLIST_RESOURCE = "data/common-passwords.txt"

_STRIP = "0123456789" + SPECIAL_CHARACTERS
# Digits and symbols read as letters; "!", "1" and "|" may stand for an i or an l.
_LEET_SHARED = {"@": "a", "4": "a", "0": "o", "3": "e", "$": "s", "5": "s", "7": "t", "+": "t"}
_LEET = str.maketrans({**_LEET_SHARED, **dict.fromkeys("!1|", "i")})
_LEET_L = str.maketrans({**_LEET_SHARED, **dict.fromkeys("!1|", "l")})
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertyuiopasdfghjklzxcvbnm",
    "1234567890qwertyuiop",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
)


def normalise(password: str) -> str:
    """The form a password is checked and hashed in (NFKC)."""
    return unicodedata.normalize("NFKC", password)


class Problem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    NO_LETTER = "no_letter"
    NO_UPPER = "no_upper"
    NO_DIGIT = "no_digit"
    BAD_CHARACTER = "bad_character"
    SAME_AS_CURRENT = "same_as_current"
    RECENTLY_USED = "recently_used"
    COMMON = "common"
    PERSONAL = "personal"


@dataclass(frozen=True, slots=True)
class PasswordProblem:
    code: Problem
    message: str  # plain English, for the parent


# ---------------------------------------------------------------------------------------------
# The blocklist


@cache
def load_blocklist(path: Path | None = None) -> frozenset[str]:
    """The shipped list (core/data/common-passwords.txt) or another file: lower-cased, one a line."""
    if path is None:
        text = resources.files("core").joinpath(BLOCKLIST_RESOURCE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def _forms(password: str) -> set[str]:
    """The forms of a password compared with the blocklist: case-folded, without spaces, without
    leading or trailing digits and punctuation, and with l33t-speak read back as letters."""
    base = password.casefold()
    forms = {base, base.replace(" ", "")}
    for f in list(forms):
        trailing = f.rstrip(_STRIP)
        forms.update({trailing, trailing.lstrip(_STRIP)})
        # Up to 3 filler characters tacked on to meet composition rules ("…1A", "…Zz!").
        for cut in (1, 2, 3):
            for core in (f[:-cut], f[:-cut].rstrip(_STRIP).lstrip(_STRIP)):
                if len(core) >= 6:
                    forms.add(core)
    for f in list(forms):
        forms.update({f.translate(_LEET), f.translate(_LEET_L)})
    return {f for f in forms if f}


def _is_sequence(s: str) -> bool:
    if len(s) < 4:
        return False
    return any(s in seq * 3 or s in seq[::-1] * 3 for seq in _SEQUENCES)


def _repeated_unit(s: str) -> str | None:
    n = len(s)
    for size in range(1, n // 2 + 1):
        if n % size == 0 and s[:size] * (n // size) == s:
            return s[:size]
    return None


def is_common(password: str, blocklist: frozenset[str] | None = None) -> bool:
    """True if the password is on the blocklist once case, spaces, trailing or leading digits and
    punctuation and l33t-speak are set aside, or is a keyboard or alphabet run, or one short or
    listed piece repeated ("abcabcabc…", "passwordpassword")."""
    words = load_blocklist() if blocklist is None else blocklist
    for form in _forms(normalise(password)):
        if form in words or _is_sequence(form):
            return True
        unit = _repeated_unit(form)
        if unit is not None and (len(unit) <= 4 or unit in words or _is_sequence(unit)):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Personal information


_SPLIT = re.compile(r"[^\w]+|_")


def _personal_tokens(email: str | None, names: Iterable[str | None]) -> tuple[list[str], list[str]]:
    """(pieces matched anywhere, short pieces matched only as whole words)."""
    anywhere: list[str] = []
    whole: list[str] = []
    pieces: list[str] = []
    if email:
        e = normalise(email).strip().casefold()
        anywhere.append(e)
        local = e.split("@", 1)[0]
        pieces.append(local)
        pieces.extend(_SPLIT.split(local))
    for name in names:
        if name:
            n = normalise(name).strip().casefold()
            pieces.append(n)
            pieces.extend(_SPLIT.split(n))
    for p in pieces:
        if len(p) >= 4:
            anywhere.append(p)
        elif len(p) >= 2 and p.isalpha():
            whole.append(p)
    return anywhere, whole


def contains_personal(
    password: str, *, email: str | None = None, names: Iterable[str | None] = ()
) -> bool:
    """True if the password contains the email address, its local part (or a 4+ character piece
    of it), or a name (4+ characters anywhere, 2-3 characters as a whole word)."""
    pw = normalise(password).casefold()
    squashed = pw.replace(" ", "")
    anywhere, whole = _personal_tokens(email, names)
    if any(t in pw or t.replace(" ", "") in squashed for t in anywhere):
        return True
    words = set(re.findall(r"[^\W\d_]+", pw))
    return any(t in words for t in whole)


# ---------------------------------------------------------------------------------------------
# Hashing


class Hasher:
    """argon2id with the configured cost. Verifying reads the cost from the hash itself, so hashes
    made with an older cost still verify, and `needs_rehash` says when to upgrade them."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
        self._ph = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._dummy: str | None = None

    @staticmethod
    @lru_cache(maxsize=8)
    def cached(time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> Hasher:
        return Hasher(time_cost, memory_kib, parallelism)

    def hash(self, password: str) -> str:
        return self._ph.hash(normalise(password))

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._ph.verify(password_hash, normalise(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._ph.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def verify_dummy(self, password: str) -> bool:
        """Spend the time of a verification when there is no account, so "no such email" and
        "wrong password" take about as long. Always False."""
        if self._dummy is None:
            self._dummy = self._ph.hash("not a password: " + "x" * 20)
        self.verify(self._dummy, password)
        return False


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against any argon2 hash (the cost is read from the hash)."""
    return Hasher.cached().verify(password_hash, password)


# ---------------------------------------------------------------------------------------------
# The policy


def _describe_char(ch: str) -> str:
    names = {"\t": "a tab", "\n": "a line break", "\r": "a line break"}
    if ch in names:
        return names[ch]
    if not ch.isprintable() or unicodedata.category(ch) in ("Zs", "Cf", "Zl", "Zp"):
        return "an invisible character"
    return f'"{ch}"'


class PasswordPolicy(BaseModel):
    """The rules a new password must meet. The defaults are the council's (the guide)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_length: int = Field(15, ge=1)
    max_length: int = Field(256, ge=128)
    require_letter: bool = True
    require_upper: bool = True
    require_digit: bool = True
    restrict_characters: bool = True
    special_characters: str = SPECIAL_CHARACTERS
    different_from_current: bool = True
    history: int = Field(8, ge=0)
    check_blocklist: bool = True
    check_personal: bool = True
    blocklist_path: Path | None = None

    @model_validator(mode="after")
    def _lengths(self) -> PasswordPolicy:
        if self.max_length < self.min_length:
            raise ValueError("max_length must be at least min_length")
        return self

    @classmethod
    def council(cls) -> PasswordPolicy:
        """The guide's policy, plus blocklist and personal checks (the default)."""
        return cls()

    @classmethod
    def nist(cls) -> PasswordPolicy:
        """NIST SP 800-63B-4 / OWASP ASVS 5: length and blocklist, no composition or history rules."""
        return cls(
            require_letter=False,
            require_upper=False,
            require_digit=False,
            restrict_characters=False,
            history=0,
            max_length=256,
        )

    # -- the rules

    def _allowed(self, ch: str, prev: str | None) -> bool:
        if ch.isalpha() or ch.isdecimal() or ch in self.special_characters:
            return True
        # A combining mark belongs to the letter before it (Devanagari vowel signs, Thai tones…).
        return (
            unicodedata.category(ch).startswith("M")
            and prev is not None
            and (prev.isalpha() or unicodedata.category(prev).startswith("M"))
        )

    def problems(
        self,
        password: str,
        *,
        email: str | None = None,
        names: Iterable[str | None] = (),
        history_hashes: Sequence[str] = (),
    ) -> list[PasswordProblem]:
        """Every rule the password breaks. `history_hashes` are argon2 hashes, the current
        password's first, then the previous ones, newest first. The history (slow: one argon2
        verification each) is only checked when every other rule passes."""
        pw = normalise(password)
        out: list[PasswordProblem] = []

        def add(code: Problem, message: str) -> None:
            out.append(PasswordProblem(code, message))

        if len(pw) < self.min_length:
            add(
                Problem.TOO_SHORT,
                f"Your password must be at least {self.min_length} characters long.",
            )
        if len(pw) > self.max_length:
            add(
                Problem.TOO_LONG, f"Your password can be at most {self.max_length} characters long."
            )
        if self.require_letter and not any(ch.isalpha() for ch in pw):
            add(Problem.NO_LETTER, "Your password must contain at least one letter.")
        if self.require_upper and not any(ch.isalpha() and ch.isupper() for ch in pw):
            add(
                Problem.NO_UPPER,
                "Your password must contain at least one upper-case (capital) letter.",
            )
        if self.require_digit and not any(ch.isdecimal() for ch in pw):
            add(Problem.NO_DIGIT, "Your password must contain at least one digit (0 to 9).")
        if self.restrict_characters:
            bad: list[str] = []
            prev: str | None = None
            for ch in pw:
                if not self._allowed(ch, prev):
                    shown = _describe_char(ch)
                    if shown not in bad:
                        bad.append(shown)
                prev = ch
            if bad:
                listed = ", ".join(bad[:3])
                add(
                    Problem.BAD_CHARACTER,
                    "Your password can only contain letters, digits, spaces and these special characters: "
                    f"{self.special_characters.strip()} . Please take out {listed}.",
                )
        else:
            if any(not ch.isprintable() and ch != " " for ch in pw):
                add(
                    Problem.BAD_CHARACTER,
                    "Your password cannot contain tabs, line breaks or invisible characters.",
                )
        if self.check_personal and contains_personal(pw, email=email, names=names):
            add(Problem.PERSONAL, "Your password must not contain your name or your email address.")
        if self.check_blocklist and is_common(pw, self._blocklist()):
            add(
                Problem.COMMON,
                "This password is too common, or has appeared in a known data breach, so it is easy "
                "to guess. Please choose another: a few unrelated words together work well.",
            )
        if not out and history_hashes:
            hashes = list(history_hashes)
            if self.different_from_current and hashes and verify_password(hashes[0], pw):
                add(
                    Problem.SAME_AS_CURRENT,
                    "Your new password must be different from your current password.",
                )
            elif self.history and any(verify_password(h, pw) for h in hashes[1 : 1 + self.history]):
                add(
                    Problem.RECENTLY_USED,
                    f"Your new password must be different from your previous {self.history} passwords.",
                )
        return out

    def check(self, password: str, **about: Any) -> list[str]:
        """Plain-English problems for the parent (`about`: what `problems` takes: email, names,
        history_hashes); empty means the password is fine."""
        return [p.message for p in self.problems(password, **about)]

    def describe(self) -> list[str]:
        """The rules, as the guide lists them ("Your password must meet the following requirements:")."""
        rules = [
            f"It must be at least {self.min_length} characters long (and at most {self.max_length})"
        ]
        if self.require_letter:
            rules.append("It must contain at least one letter")
        if self.restrict_characters:
            rules.append(
                "It must contain only letters, digits, and special characters "
                f"(space and {self.special_characters.strip()})"
            )
        if self.require_upper:
            rules.append("It must contain at least one upper-case letter")
        if self.require_digit:
            rules.append("It must contain at least one numerical digit")
        if self.different_from_current:
            rules.append("It must be different to your current password")
        if self.history:
            rules.append(f"It must be different to your previous {self.history} passwords")
        if self.check_blocklist:
            rules.append("It must not be a commonly used password, or one known from a data breach")
        if self.check_personal:
            rules.append("It must not contain your name or your email address")
        rules.append("A long phrase of a few words you will remember is a good choice")
        return rules

    def _blocklist(self) -> frozenset[str]:
        return load_blocklist(self.blocklist_path)
