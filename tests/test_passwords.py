"""The password policy (the guide's rules, the blocklist, personal data, history) and argon2id."""

from __future__ import annotations

import pytest

from core.accounts.policy import (
    SPECIAL_CHARACTERS,
    Hasher,
    PasswordPolicy,
    Problem,
    is_common,
    load_blocklist,
)

POLICY = PasswordPolicy()
GOOD = "Blue kettle sings 42"  # 20 characters, upper, digit, letters, spaces
# Cheap argon2id, so that history tests verifying many hashes stay fast.
FAST = Hasher(time_cost=1, memory_kib=1024, parallelism=1)


def codes(password: str, policy: PasswordPolicy = POLICY, **kw) -> set[Problem]:
    return {p.code for p in policy.problems(password, **kw)}


def test_a_good_password_passes():
    assert POLICY.check(GOOD) == []


# -- length


def test_14_characters_is_too_short_and_15_is_enough():
    fourteen = "Kettle on 12 x"
    fifteen = "Kettle on 12 xy"
    assert len(fourteen) == 14 and len(fifteen) == 15
    assert POLICY.check(fourteen) == ["Your password must be at least 15 characters long."]
    assert POLICY.check(fifteen) == []


def test_maximum_length_is_256_by_default():
    base = "Quiet Harbour 7 "
    at_max = (base * 20)[:256]
    assert len(at_max) == 256
    assert Problem.TOO_LONG not in codes(at_max)
    assert Problem.TOO_LONG in codes(at_max + "x")
    assert "at most 256 characters" in " ".join(POLICY.check(at_max + "x"))


def test_maximum_length_is_configurable_but_never_below_128():
    assert Problem.TOO_LONG in codes("Quiet Harbour 7 " * 9, PasswordPolicy(max_length=128))
    with pytest.raises(ValueError):
        PasswordPolicy(max_length=127)
    with pytest.raises(ValueError):
        PasswordPolicy(min_length=200, max_length=150)


def test_a_long_unicode_passphrase_is_accepted():
    phrase = "Ελληνικό φως και Москва зимой, très jolie à Noël 2024 — no: façade Ωmega"
    phrase = phrase.replace("—", "-")
    assert len(phrase) >= 64
    assert POLICY.check(phrase) == []


def test_german_passphrase_with_eszett_is_fine():
    assert POLICY.check("Große Straße 12 am Meer") == []


# -- composition


def test_no_upper_case_letter():
    assert codes("blue kettle sings 42") == {Problem.NO_UPPER}
    assert POLICY.check("blue kettle sings 42") == [
        "Your password must contain at least one upper-case (capital) letter."
    ]


def test_no_digit():
    assert codes("Blue kettle sings loudly") == {Problem.NO_DIGIT}


def test_no_letter():
    # digits and specials only: no letter, no upper case
    assert codes("4821 9930 7714 55!") >= {Problem.NO_LETTER, Problem.NO_UPPER}


def test_unicode_letters_count_as_letters_and_upper_case():
    assert codes("Ωραίο σπίτι στη θάλασσα 7") == set()
    assert codes("ωραίο σπίτι στη θάλασσα 7") == {Problem.NO_UPPER}
    assert codes("Зелёный чайник поёт 42") == set()


@pytest.mark.parametrize("bad", ["\t", "\n", "😀", "€", "£", "\u200b", "→"])
def test_disallowed_characters(bad):
    pw = f"Blue kettle{bad}sings 42"
    assert codes(pw) == {Problem.BAD_CHARACTER}


def test_bad_character_message_names_it():
    (msg,) = POLICY.check("Blue kettle\tsings 42")
    assert "a tab" in msg and "only contain letters, digits" in msg


@pytest.mark.parametrize("ch", list(SPECIAL_CHARACTERS))
def test_each_listed_special_character_is_allowed(ch):
    assert codes(f"Blue kettle{ch}sings 42") == set()


def test_special_characters_are_the_guides():
    assert SPECIAL_CHARACTERS == " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def test_no_break_space_is_read_as_a_space():
    assert codes("Blue kettle\u00a0sings 42") == set()


# -- blocklist


def test_blocklist_is_shipped_with_at_least_1000_lower_case_entries():
    words = load_blocklist()
    assert len(words) >= 1000
    assert all(w == w.lower() and w.strip() == w for w in words)
    assert {"password", "qwertyuiop", "iloveyou", "123456"} <= words


@pytest.mark.parametrize(
    "pw",
    [
        "Password12345678",
        "Qwertyuiop123456",
        "PASSWORD12345678",
        "pAsSwOrD99999999!!",
        "P@ssw0rd123456789",
        "Iloveyou20242024",
        "Liverpool1234567!",
        "Correct Horse Battery Staple 1",
        "Abcdefghijklmnop1",
        "Aaaaaaaaaaaaaaa1",
        "Passwordpassword1",
        "Password1234567A",
        "123456789012345Ab",
    ],
)
def test_blocklist_hits(pw):
    assert Problem.COMMON in codes(pw)


def test_blocklist_does_not_refuse_ordinary_passphrases():
    for pw in (
        "Blue kettle sings 42",
        "Summer in Whitby 2019 was Lovely",
        "My son Alfie likes trains 7",
    ):
        assert not is_common(pw), pw


def test_blocklist_message_is_plain_english():
    (msg,) = POLICY.check("Password12345678")
    assert "too common" in msg


# -- personal data


def test_email_inside_is_refused():
    kw = {"email": "jane.doe@example.org", "names": ("Jane", "Doe")}
    assert Problem.PERSONAL in codes("Jane.Doe@example.org 1", **kw)
    assert Problem.PERSONAL in codes("Xjane.doe 2024 River", email="jane.doe@example.org")
    assert codes("Blue kettle sings 42", **kw) == set()


def test_name_inside_is_refused():
    assert Problem.PERSONAL in codes("Jessamy the Great 42", names=("Jessamy", "Okafor"))
    assert Problem.PERSONAL in codes("Blue OKAFOR kettle 42", names=("Jessamy", "Okafor"))
    # a short name counts only as a whole word ("Al" is not refused inside "Always")
    assert Problem.PERSONAL not in codes("Always sing loudly 42", names=("Al", "Li"))
    assert Problem.PERSONAL in codes("Sing loudly Al 42 now", names=("Al", "Li"))
    assert POLICY.check("Jessamy the Great 42", names=("Jessamy",)) == [
        "Your password must not contain your name or your email address."
    ]


# -- history


@pytest.fixture(scope="module")
def history():
    """The current password's hash first, then 9 previous ones, newest first."""
    passwords = [f"Kettle number {i} sings" for i in range(10)]
    return passwords, [FAST.hash(p) for p in passwords]


def test_same_as_current_is_refused(history):
    passwords, hashes = history
    assert codes(passwords[0], history_hashes=hashes) == {Problem.SAME_AS_CURRENT}
    assert POLICY.check(passwords[0], history_hashes=hashes) == [
        "Your new password must be different from your current password."
    ]


@pytest.mark.parametrize("back", range(1, 9))
def test_each_of_the_previous_8_is_refused(history, back):
    passwords, hashes = history
    assert codes(passwords[back], history_hashes=hashes) == {Problem.RECENTLY_USED}


def test_the_9th_back_is_allowed(history):
    passwords, hashes = history
    assert codes(passwords[9], history_hashes=hashes) == set()
    assert codes("A brand new kettle 1", history_hashes=hashes) == set()


def test_history_size_is_configurable(history):
    passwords, hashes = history
    three = PasswordPolicy(history=3)
    assert codes(passwords[3], three, history_hashes=hashes) == {Problem.RECENTLY_USED}
    assert codes(passwords[4], three, history_hashes=hashes) == set()


# -- rules switched off


def test_rules_switched_off():
    relaxed = PasswordPolicy(require_upper=False, require_digit=False, require_letter=False)
    assert codes("blue kettle sings loudly", relaxed) == set()
    assert codes("4821 9930 7714 553", relaxed) == set()
    assert codes("Password12345678", PasswordPolicy(check_blocklist=False)) == set()
    assert (
        codes("Jessamy the Great 42", PasswordPolicy(check_personal=False), names=("Jessamy",))
        == set()
    )
    assert codes("Blue kettle 😀 sings 42", PasswordPolicy(restrict_characters=False)) == set()


def test_history_switched_off(history):
    passwords, hashes = history
    policy = PasswordPolicy(history=0, different_from_current=False)
    assert codes(passwords[0], policy, history_hashes=hashes) == set()
    assert codes(passwords[1], policy, history_hashes=hashes) == set()


def test_nist_preset_keeps_length_and_blocklist_only():
    nist = PasswordPolicy.nist()
    assert codes("blue kettle sings loudly", nist) == set()
    assert codes("short one", nist) == {Problem.TOO_SHORT}
    assert Problem.COMMON in codes("password12345678", nist)
    assert codes("Blue kettle\tsings 42", nist) == {
        Problem.BAD_CHARACTER
    }  # control characters never


def test_several_problems_are_all_listed():
    msgs = POLICY.check("short")
    assert "Your password must be at least 15 characters long." in msgs
    assert len(msgs) >= 3


def test_describe_lists_the_guides_rules():
    rules = PasswordPolicy().describe()
    text = "\n".join(rules)
    for phrase in (
        "at least 15 characters long",
        "at least one letter",
        "only letters, digits, and special characters",
        "at least one upper-case letter",
        "at least one numerical digit",
        "different to your current password",
        "different to your previous 8 passwords",
        "commonly used",
    ):
        assert phrase in text
    assert "upper-case" not in "\n".join(PasswordPolicy(require_upper=False).describe())


# -- hashing


def test_argon2id_hash_verifies_and_rejects_wrong():
    hasher = Hasher()  # the real cost
    h = hasher.hash(GOOD)
    assert h.startswith("$argon2id$")
    assert GOOD not in h
    assert hasher.verify(h, GOOD)
    assert not hasher.verify(h, GOOD + "!")
    assert not hasher.verify("not a hash", GOOD)
    assert hasher.hash(GOOD) != h  # salted
    assert not hasher.needs_rehash(h)


def test_hash_is_of_the_normalised_password():
    h = FAST.hash("Cafe\u0301 on the corner 12")  # decomposed é
    assert FAST.verify(h, "Café on the corner 12")  # composed é


def test_needs_rehash_when_the_cost_goes_up():
    h = FAST.hash(GOOD)
    assert Hasher(time_cost=2, memory_kib=1024, parallelism=1).needs_rehash(h)
    assert Hasher().verify(h, GOOD)  # old hashes still verify
