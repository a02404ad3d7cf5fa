"""The identifier guard that every stage output passes through."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline.privacy import IdentifierLeak, assert_no_identifiers, find_identifiers
from pipeline.pseudonymise import pseudonymise


@pytest.mark.parametrize(
    "text, kind",
    [
        ("my number is 19880320-0016", "identity number"),
        ("880320-0016", "identity number"),
        ("HETU 131052-308T here", "identity number"),
        ("CPR 010203-1234", "identity number"),
        ("write to amina.ali12@gmail.com", "e-mail address"),
        ("ring 070-123 45 67", "phone number"),
        ("+46 70 123 45 67", "phone number"),
    ],
)
def test_finds_identifiers_in_text(text, kind):
    assert kind in find_identifiers(text)


@pytest.mark.parametrize(
    "text", ["2021-HT", "0180", "Göteborg", "employed 12 months", "2020-03-01"]
)
def test_leaves_ordinary_values_alone(text):
    assert find_identifiers(text) == []


def test_pseudonyms_pass_the_guard():
    pids = pseudonymise([f"1988032{i:05d}" for i in range(2000)], bytes(32))
    assert_no_identifiers(pa.table({"pid": pids}), where="test")


def test_identifying_column_or_value_is_refused_without_echoing_it():
    with pytest.raises(IdentifierLeak, match="column 'email'"):
        assert_no_identifiers(pa.table({"email": ["x"]}), where="out")
    with pytest.raises(IdentifierLeak) as error:
        assert_no_identifiers(pa.table({"note": ["call 070-123 45 67"]}), where="out")
    assert "070" not in str(error.value)
