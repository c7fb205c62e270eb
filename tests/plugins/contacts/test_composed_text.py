"""Text is stored composed (Unicode NFC), as filters compare it: a name written
decomposed ("e" and a combining accent, as macOS and some CSV exports write it)
is found by either spelling, and excluded by either (found by an outside check:
"Re\u0301sume\u0301 Labs" could not be found by its own spelling). Every
spelling of the names below against every spelling of the terms, compared with
a plain model."""

import itertools
import unicodedata

from tests.plugins.contacts.conftest import WRITE

NAMES = [
    "Re\u0301sume\u0301 Labs",  # decomposed
    "Résumé Labs",  # composed
    "RE\u0301SUME\u0301",
    "Cafe\u0301",
    "Café",
    "cafe",
    "Direc\u0327tion",
]
TERMS = ["résumé", "re\u0301sume\u0301", "RÉSUMÉ", "é", "e\u0301", "E\u0301", "cafe", "café", "ç"]


def model(term: str, name: str) -> bool:
    def nfc(text):
        return unicodedata.normalize("NFC", text)

    return nfc(term).lower() in nfc(name).lower()


async def _get(api, query: dict) -> set[str]:
    response = await api.get("/api/v1/contacts/", params={**query, "limit": "100"}, headers=WRITE)
    body = await response.json()
    assert response.status == 200, body
    return {row["uuid"] for row in body["results"]}


async def test_every_spelling_finds_every_spelling(api):
    by_name = {}
    for n, name in enumerate(NAMES):
        response = await api.post(
            "/api/v1/contacts/",
            json={"email": f"c{n}@x.io", "title": name, "company": {"name": name}},
            headers=WRITE,
        )
        created = await response.json()
        assert response.status == 201, created
        # stored composed: read back as such
        assert created["company"]["name"] == unicodedata.normalize("NFC", name)
        assert created["title"] == unicodedata.normalize("NFC", name)
        by_name[name] = created["uuid"]
    everyone = set(by_name.values())
    for term, field in itertools.product(TERMS, ("company", "title")):
        expected = {uuid for name, uuid in by_name.items() if model(term, name)}
        assert await _get(api, {field: term}) == expected, (field, term)
        if field == "company":
            excluded = await _get(api, {"exclude_company_name": term})
            assert excluded == everyone - expected, term
            assert await _get(api, {"search": term}) == expected, term
