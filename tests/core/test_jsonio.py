"""JSON bodies (core/jsonio.py): orjson's bytes are the standard library's compact
UTF-8 encoding of the same value, and what orjson refuses still answers."""

import json

from hypothesis import given
from hypothesis import strategies as st

from contacts_api.core.jsonio import dumps, json_reply

# what routes put in bodies (floats aside: both encoders write the shortest
# round-trip repr, but spell exponents differently, so compared parsed below)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text(alphabet=st.sampled_from('aé"\\\n\t\x00\x1f/<>&ü中😀 \u2028z'), max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet="ab é中", max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


def stdlib(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@given(VALUES)
def test_bytes_are_the_standard_librarys_compact_utf8(value):
    assert dumps(value) == stdlib(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip(value):
    assert json.loads(dumps({"x": value})) == {"x": value}


def test_representative_contact_page_bytes():
    page = {
        "results": [
            {
                "uuid": "0b6c1f0e-3a52-4c33-9d2b-8f1e7c1d2a3b",
                "first_name": "Zoë",
                "last_name": "王",
                "title": "Directeur Général, Team Nexvaro",
                "departments": ["sales", "марketing"],
                "company": None,
                "annual_revenue": 9_223_372_036_854_775_807,
                "created_at": "2026-12-07T00:00:00.123456Z",
            }
        ],
        "next_cursor": "eyJhIjoxfQ.sig",
        "count": None,
    }
    body = dumps(page)
    assert body == stdlib(page)
    assert "Zoë".encode() in body and b"\\u" not in body  # UTF-8, not escapes
    assert list(json.loads(body)["results"][0]) == list(page["results"][0])  # key order


def test_what_orjson_refuses_is_encoded_by_the_standard_library():
    huge = {"n": 2**70, "s": "lone \ud800 surrogate"}
    assert json.loads(dumps(huge)) == huge
    assert dumps({1: "a", None: "b"}) == b'{"1":"a","null":"b"}'  # as json.dumps


def test_reply_headers_match_aiohttps_json_response():
    response = json_reply({"a": "é"}, status=201, headers={"X-Thing": "1"})
    assert response.status == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["X-Thing"] == "1"
    assert response.body == '{"a":"é"}'.encode()
