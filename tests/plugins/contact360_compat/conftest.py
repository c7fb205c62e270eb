"""The app's calls, replayed against the server with the compat plugin on.

``app`` is a signed-in Contact360 client: requests go to the dialect's prefix
with the bearer token the app would send (and the write keys it sends
itself on company and contact writes). ``seeded`` adds a few companies and
contacts through our own v1 API, so every list has something to show.
"""

from typing import Any

import pytest

from tests.conftest import WRITE_KEY
from tests.plugins.auth_jwt import FAST, PASSWORD, register, set_user

PREFIX = "/contact360"
OPT_IN = {"CONTACTS_API__PLUGINS__OPT_IN": "contact360_compat", **FAST}


class App:
    """What the app's axios client does: base URL + bearer token."""

    def __init__(self, client, token: str, user: dict[str, Any]):
        self.client, self.token, self.user = client, token, user

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def request(self, method: str, path: str, headers=None, **kwargs):
        return self.client.request(method, PREFIX + path, headers=self.headers(headers), **kwargs)

    async def json(self, method: str, path: str, status: int = 200, **kwargs) -> Any:
        response = await self.request(method, path, **kwargs)
        body = await response.json()
        assert response.status == status, (method, path, response.status, body)
        return body


@pytest.fixture
async def client(make_client, settings_factory):
    return await make_client(settings_factory(**OPT_IN))


@pytest.fixture
async def app(client) -> App:
    """Signed in as an administrator (the app's import and team pages need one)."""
    signed_in = await register(client, "ada@example.com", full_name="Ada Lovelace")
    await set_user(client, signed_in["user"]["id"], role="admin")
    return App(client, signed_in["access_token"], signed_in["user"])


COMPANIES = [
    {
        "name": "TechCorp",
        "domain": "techcorp.com",
        "employees_count": 120,
        "industries": ["computer software"],
        "keywords": ["saas", "crm"],
        "technologies": ["aws"],
        "annual_revenue": 12_000_000,
        "address": "1 Main St",
        "city": "Austin",
        "state": "Texas",
        "country": "United States",
        "metadata": {"phone_number": "+1 555 0199", "company_name_for_emails": "TechCorp"},
    },
    {
        "name": "Foodies",
        "domain": "foodies.io",
        "employees_count": 15,
        "industries": ["food & beverages"],
        "keywords": ["restaurants"],
        "technologies": [],
        "city": "Lyon",
        "country": "France",
    },
]
CONTACTS = [
    ("Ada", "Lovelace", "ada@techcorp.com", "Chief Executive Officer", "c_suite", 0),
    ("Alan", "Turing", "alan@techcorp.com", "Head of Research", "head", 0),
    ("Grace", "Hopper", "grace@foodies.io", "Director of Operations", "director", 1),
    ("Linus", "Free", "linus@nowhere.test", "Engineer", "senior", None),
]


@pytest.fixture
async def seeded(client) -> dict[str, list[dict[str, Any]]]:
    key = {"X-Contacts-Write-Key": WRITE_KEY}
    companies = []
    for body in COMPANIES:
        response = await client.post("/api/v1/companies/", json=body, headers=key)
        assert response.status == 201, await response.text()
        companies.append(await response.json())
    contacts = []
    for first, last, email, title, seniority, company in CONTACTS:
        body = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "title": title,
            "seniority": seniority,
            "departments": ["engineering"] if seniority == "senior" else ["executive"],
            "email_status": "verified",
            "city": "London",
            "country": "United Kingdom",
            "linkedin_url": f"https://www.linkedin.com/in/{first.lower()}",
            "metadata": {"stage": "Customer", "work_direct_phone": "+44 20 0000"},
        }
        if company is not None:
            body["company"] = {"uuid": companies[company]["uuid"]}
        response = await client.post("/api/v1/contacts/", json=body, headers=key)
        assert response.status == 201, await response.text()
        contacts.append(await response.json())
    return {"companies": companies, "contacts": contacts}


__all__ = ["OPT_IN", "PASSWORD", "PREFIX", "App"]
