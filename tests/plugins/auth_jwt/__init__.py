"""Helpers shared by the auth_jwt tests (fixtures stay in the test modules)."""

import asyncio
import json
import time
import uuid

import jwt

from contacts_api.core.appkeys import RESOURCES
from tests.conftest import JWT_SECRET

# Registration is closed by default: tests that register users open it, without
# the per-address limit (every test client is 127.0.0.1).
OPEN_REGISTRATION = {
    "CONTACTS_API__AUTH__REGISTRATION_OPEN": "true",
    "CONTACTS_API__AUTH__REGISTRATION_MAX_PER_ADDRESS": "10000",
}
# bcrypt cost 4 keeps the suite fast; one test checks the default cost (11).
FAST = {"CONTACTS_API__AUTH__BCRYPT_ROUNDS": "4", **OPEN_REGISTRATION}
PASSWORD = "correct horse battery staple"


async def expect_error(response, status: int, code: str) -> dict:
    """The response is the API's JSON error with this status and code."""
    body = await response.json()
    assert response.status == status, body
    assert response.content_type == "application/json"
    assert body["error_code"] == code and isinstance(body["detail"], str) and body["detail"]
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(client, email: str, password: str = PASSWORD, **extra) -> dict:
    response = await client.post(
        "/api/v2/auth/register", json={"email": email, "password": password, **extra}
    )
    body = await response.json()
    assert response.status == 201, body
    return body


async def login(client, email: str, password: str = PASSWORD):
    return await client.post("/api/v2/auth/login", json={"email": email, "password": password})


async def set_user(client, user_id: str, **columns) -> None:
    """Change a user's row directly (as another process or an operator would)."""
    assignments = ", ".join(f"{name} = %({name})s" for name in columns)
    await client.app[RESOURCES].db.execute(
        f"UPDATE users SET {assignments} WHERE id = %(id)s", {**columns, "id": user_id}
    )


async def admin(client, email: str = "admin@example.com") -> dict:
    """A registered user promoted to admin; returns the register answer."""
    signed_in = await register(client, email)
    await set_user(client, signed_in["user"]["id"], role="admin")
    return signed_in


def mint(
    claims: dict | None = None,
    *,
    secret: str = JWT_SECRET,
    algorithm: str = "HS256",
    drop: tuple[str, ...] = (),
    **headers,
) -> str:
    """A token made outside the server: valid access-token claims unless changed."""
    now = int(time.time())
    payload = {
        "sub": str(uuid.uuid4()),
        "type": "access",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        **(claims or {}),
    }
    for name in drop:
        payload.pop(name)
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers or None)


async def raw_get(client, path: str, header: bytes) -> tuple[int, dict]:
    """GET with a header line sent as raw bytes (aiohttp's client would refuse
    non-ASCII header values): the status and the JSON body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(
        b"GET "
        + path.encode()
        + b" HTTP/1.1\r\nHost: test\r\n"
        + header
        + b"\r\nConnection: close\r\n\r\n"
    )
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)
