"""API key tokens, ids, slugs and cursors: pure functions, no sockets."""
from __future__ import annotations

import pytest

from chalicelib.auth import tokens
from chalicelib.auth.rbac import MATRIX, RANK, Role
from chalicelib.db.pages import decode_cursor, encode_cursor
from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.ids import check_id, new_id
from chalicelib.services.deploys.slugs import MAX_LABEL, slugify, with_suffix


def test_a_minted_key_parses_back_to_its_id_and_matches_only_its_own_hash():
    key = tokens.mint_api_key()
    assert key.token.startswith("ma_") and key.token not in key.token_hash
    assert tokens.parse_api_key(key.token) == key.key_id
    assert tokens.hashes_match(key.token, key.token_hash)
    assert not tokens.hashes_match(key.token[:-1] + ("A" if key.token[-1] != "A" else "B"), key.token_hash)
    with pytest.raises(Unauthorized):
        tokens.parse_api_key("ma_" + "x" * 10)


def test_ids_are_unique_sortable_and_validated_by_kind():
    a, b = new_id("team"), new_id("team")
    assert a != b and check_id("team", a) == a
    with pytest.raises(BadRequest):
        check_id("project", a)
    with pytest.raises(BadRequest):
        check_id("team", "team_../../etc")


@pytest.mark.parametrize("parts,expected", [
    (("Weather Agent",), "weather-agent"),
    (("my--app", "Feature/Big_Thing"), "my-app-feature-big-thing"),
    (("!!!",), "app"),
    (("é-x",), "x"),
])
def test_slugs_are_dns_labels(parts, expected):
    assert slugify(*parts) == expected


def test_slugs_never_exceed_one_dns_label_even_with_a_suffix():
    long = slugify("a" * 200, "b" * 200)
    assert len(long) <= MAX_LABEL and len(with_suffix(long)) <= MAX_LABEL
    assert with_suffix("abc") != with_suffix("abc")


def test_a_cursor_is_only_accepted_for_its_own_partition():
    key = {"PK": {"S": "TEAM#a"}, "SK": {"S": "MEMBER#u"}}
    cursor = encode_cursor(key)
    assert decode_cursor(cursor, "PK", "TEAM#a") == key
    with pytest.raises(BadRequest):
        decode_cursor(cursor, "PK", "TEAM#b")
    with pytest.raises(BadRequest):
        decode_cursor("%%%", "PK", "TEAM#a")


def test_roles_are_nested_by_rank():
    ordered = sorted(Role, key=lambda r: RANK[r])
    for lower, higher in zip(ordered, ordered[1:]):
        assert MATRIX[lower] < MATRIX[higher]
    assert "team:delete" in MATRIX[Role.owner] and "team:delete" not in MATRIX[Role.admin]
    assert not any(p.endswith((":create", ":update", ":delete")) and not p.startswith("apikey")
                   for p in MATRIX[Role.viewer])
