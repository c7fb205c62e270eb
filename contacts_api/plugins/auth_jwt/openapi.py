"""The OpenAPI fragment of the auth and user routes."""

from typing import Any

from contacts_api.core.openapi import error_response_refs, json_body, json_response

__all__ = ["fragment"]

BEARER = [{"bearer": []}]
ADMIN = [{"bearer": []}]  # an admin user's token (the write key is not a v2 credential)
NULLABLE_TEXT = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


PASSWORD = {"type": "string", "minLength": 8, "maxLength": 256}
PROFILE = _obj(
    {
        "full_name": NULLABLE_TEXT,
        "job_title": NULLABLE_TEXT,
        "company": NULLABLE_TEXT,
        "timezone": {**NULLABLE_TEXT, "description": "IANA name, e.g. Europe/Paris"},
        "avatar_url": {
            **NULLABLE_TEXT,
            "format": "uri",
            "description": "An uploaded avatar's fresh signed (local storage) or presigned "
            "(S3) link, made at each read and valid `auth.avatar_link_ttl_s`; else the "
            "external URL set through the profile, or null.",
        },
        "bio": NULLABLE_TEXT,
    }
)
TIME = {"type": ["string", "null"], "format": "date-time"}
SCHEMAS: dict[str, Any] = {
    "UserProfile": PROFILE,
    "User": _obj(
        {
            "id": {"type": "string", "format": "uuid"},
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["user", "admin"]},
            "is_active": {"type": "boolean"},
            "last_sign_in_at": TIME,
            "created_at": {"type": "string", "format": "date-time"},
            "profile": _ref("UserProfile"),
        },
        ("id", "email", "role", "is_active", "last_sign_in_at", "created_at", "profile"),
    ),
    "AuthTokens": _obj(
        {
            "user": _ref("User"),
            "access_token": {"type": "string"},
            "refresh_token": {"type": "string"},
            "token_type": {"type": "string", "enum": ["bearer"]},
            "expires_in": {"type": "integer", "description": "Seconds the access token lives."},
        },
        ("user", "access_token", "refresh_token", "token_type", "expires_in"),
    ),
    "UserPage": _obj(
        {
            "next": NULLABLE_TEXT,
            "previous": NULLABLE_TEXT,
            "results": {"type": "array", "items": _ref("User")},
        },
        ("next", "previous", "results"),
    ),
}
REFRESH_BODY = json_body(_obj({"refresh_token": {"type": "string"}}, ("refresh_token",)))
NO_CONTENT = {"204": {"description": "Done"}}
USER_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


LIST_PARAMETERS = [
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
        "Page size. Alias: page_size.",
    ),
    _query("page_size", {"type": "integer", "minimum": 1, "maximum": 100}, "Alias of limit."),
    _query(
        "offset", {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}, "Rows to skip."
    ),
    _query("search", {"type": "string"}, "Email or full name contains (case-insensitive)."),
    _query("role", {"type": "string", "enum": ["user", "admin"]}, "Only this role."),
    _query("is_active", {"type": "boolean"}, "Only active (true) or deactivated (false) users."),
]


AVATAR_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "A PNG, JPEG, WebP or GIF image.",
                    }
                },
            },
            "encoding": {"file": {"contentType": "image/png, image/jpeg, image/webp, image/gif"}},
        }
    },
}

ADMIN_ONLY = (
    "Needs the bearer token of a user with the admin role. The v1 write key is not a "
    "v2 credential (401); the first administrator is made with "
    "`contacts-api users create EMAIL --admin`."
)


def _op(
    op_id: str,
    summary: str,
    responses: dict[str, Any],
    *errors: int,
    body: dict[str, Any] | None = None,
    security: list | None = BEARER,
    **extra: Any,
) -> dict:
    operation = {
        "tags": ["users"],
        "operationId": op_id,
        "summary": summary,
        "responses": {**responses, **error_response_refs(*errors)},
        "security": security or [],
        **extra,
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def fragment() -> dict[str, Any]:
    tokens = json_response("Signed in", _ref("AuthTokens"))
    user = json_response("The user with its profile", _ref("User"))
    return {
        "tags": [
            {
                "name": "users",
                "description": "Sign-in with JWT bearer tokens, users "
                "and profiles (plugin auth_jwt).",
            }
        ],
        "components": {"schemas": SCHEMAS},
        "paths": {
            "/api/v2/auth/register": {
                "post": _op(
                    "authRegister",
                    "Create an account and sign in",
                    {"201": tokens},
                    400,
                    403,
                    409,
                    422,
                    429,
                    security=None,
                    description="Closed by default (`auth.registration_open`): 403 "
                    "`FORBIDDEN` then, and accounts are made with `contacts-api users create`. "
                    "When open, each client address may register "
                    "`auth.registration_max_per_address` times per "
                    "`auth.registration_window_s` (429 `RATE_LIMITED` after); a taken email "
                    "is 409.",
                    body=json_body(
                        _obj(
                            {
                                "email": {"type": "string", "format": "email"},
                                "password": PASSWORD,
                                "full_name": NULLABLE_TEXT,
                            },
                            ("email", "password"),
                        )
                    ),
                )
            },
            "/api/v2/auth/login": {
                "post": _op(
                    "authLogin",
                    "Sign in with email and password",
                    {"200": tokens},
                    400,
                    401,
                    422,
                    429,
                    security=None,
                    description="Failed logins are counted per (account, client address): "
                    "429 from `auth.login_max_failures` on, for that pair only; per address on "
                    "every account (429 from `auth.login_address_max_failures`); and per account "
                    "from everywhere, which slows its logins down (1, 2, 4 ... s, at most "
                    "`auth.login_max_delay_s`) but never refuses them.",
                    body=json_body(
                        _obj(
                            {"email": {"type": "string"}, "password": {"type": "string"}},
                            ("email", "password"),
                        )
                    ),
                )
            },
            "/api/v2/auth/refresh": {
                "post": _op(
                    "authRefresh",
                    "New tokens for a refresh token (which then stops working)",
                    {"200": tokens},
                    400,
                    401,
                    422,
                    security=None,
                    body=REFRESH_BODY,
                )
            },
            "/api/v2/auth/logout": {
                "post": _op(
                    "authLogout",
                    "Revoke a refresh token (and its sign-in); the user's access tokens "
                    "issued until now stop working",
                    NO_CONTENT,
                    400,
                    401,
                    403,
                    422,
                    body=REFRESH_BODY,
                )
            },
            "/api/v2/users/me": {"get": _op("usersMe", "The caller", {"200": user}, 401, 403)},
            "/api/v2/users/me/profile": {
                "patch": _op(
                    "usersUpdateProfile",
                    "Change the caller's profile (PUT works too)",
                    {"200": json_response("The updated profile", _ref("UserProfile"))},
                    400,
                    401,
                    403,
                    422,
                    body=json_body(PROFILE),
                )
            },
            "/api/v2/users/me/password": {
                "post": _op(
                    "usersChangePassword",
                    "Change the caller's password; signs out every session (refresh and "
                    "access tokens)",
                    NO_CONTENT,
                    400,
                    401,
                    403,
                    422,
                    429,
                    body=json_body(
                        _obj(
                            {"current_password": {"type": "string"}, "new_password": PASSWORD},
                            ("current_password", "new_password"),
                        )
                    ),
                )
            },
            "/api/v2/users/me/avatar": {
                "post": _op(
                    "usersUploadAvatar",
                    "Upload the caller's avatar",
                    {"200": user},
                    400,
                    401,
                    403,
                    413,
                    422,
                    body=AVATAR_UPLOAD,
                    description="A PNG, JPEG, WebP or GIF image, recognized by its content "
                    "(not its name or declared type), at most `auth.avatar_max_bytes` "
                    "(2 MiB: 413 above, nothing stored) and 4096x4096 pixels (422 above). It "
                    "is decoded and re-encoded to a square PNG thumbnail of "
                    "`auth.avatar_size_px` (256) pixels without any metadata (EXIF, GPS...), "
                    "stored under a random name; the previous upload is deleted. Anything "
                    "else (text, SVG, a truncated image, a polyglot) is 422 naming `file`.",
                ),
                "delete": _op(
                    "usersDeleteAvatar",
                    "Remove the caller's avatar and delete its file",
                    NO_CONTENT,
                    401,
                    403,
                ),
            },
            "/api/v2/users/avatars/{name}": {
                "get": _op(
                    "usersAvatarFile",
                    "An uploaded avatar on its signed link (local storage)",
                    {
                        "200": {
                            "description": "The PNG thumbnail",
                            "content": {
                                "image/png": {"schema": {"type": "string", "format": "binary"}}
                            },
                        }
                    },
                    403,
                    404,
                    security=None,
                    parameters=[
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "token",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    description="The link in `profile.avatar_url` when files are stored "
                    "locally; it is the credential (no bearer token) and expires after "
                    "`auth.avatar_link_ttl_s`.",
                )
            },
            "/api/v2/users/": {
                "get": _op(
                    "usersList",
                    "A page of users (admin)",
                    {"200": json_response("A page of users", _ref("UserPage"))},
                    401,
                    403,
                    422,
                    security=ADMIN,
                    parameters=LIST_PARAMETERS,
                    description=ADMIN_ONLY,
                )
            },
            "/api/v2/users/{id}": {
                "get": _op(
                    "usersGet",
                    "One user (admin)",
                    {"200": user},
                    401,
                    403,
                    404,
                    security=ADMIN,
                    parameters=[USER_ID],
                    description=ADMIN_ONLY,
                ),
                "patch": _op(
                    "usersUpdate",
                    "Change a user's role or active flag (admin; PUT works too)",
                    {"200": user},
                    400,
                    401,
                    403,
                    404,
                    422,
                    security=ADMIN,
                    parameters=[USER_ID],
                    description=ADMIN_ONLY,
                    body=json_body(
                        _obj(
                            {
                                "is_active": {"type": "boolean"},
                                "role": {"type": "string", "enum": ["user", "admin"]},
                            }
                        )
                    ),
                ),
            },
        },
    }
