"""Settings the auth_jwt plugin needs, checked before the app starts."""

from contacts_api.core.settings import Settings
from contacts_api.plugins.auth_jwt.tokens import MIN_SECRET_BYTES

__all__ = ["settings_problems"]


def settings_problems(settings: Settings, *, need_secret: bool = True) -> list[str]:
    auth = settings.auth
    problems = []
    minimum = MIN_SECRET_BYTES[auth.jwt_algorithm]
    secret = auth.jwt_secret.reveal().encode()
    if need_secret and not secret:
        problems.append(
            "auth.jwt_secret is required: set the JWT_SECRET environment variable "
            f"to a random string of at least {minimum} bytes (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    elif need_secret and len(secret) < minimum:
        problems.append(
            f"auth.jwt_secret (JWT_SECRET) is {len(secret)} bytes long: "
            f"{auth.jwt_algorithm} needs at least {minimum}"
        )
    if not 4 <= auth.bcrypt_rounds <= 31:
        problems.append("auth.bcrypt_rounds must be between 4 and 31")
    for key in (
        "access_token_ttl_s",
        "refresh_token_ttl_s",
        "login_max_failures",
        "login_window_s",
        "login_address_max_failures",
        "login_delay_after_failures",
        "registration_max_per_address",
        "registration_window_s",
        "avatar_max_bytes",
        "avatar_link_ttl_s",
        "avatar_decode_concurrency",
    ):
        if getattr(auth, key) < 1:
            problems.append(f"auth.{key} must be at least 1")
    if auth.login_max_delay_s < 0:
        problems.append("auth.login_max_delay_s must not be negative")
    if not 0 <= auth.refresh_reuse_grace_s <= 60:
        problems.append("auth.refresh_reuse_grace_s must be between 0 and 60 (seconds)")
    if not 16 <= auth.avatar_size_px <= 1024:
        problems.append("auth.avatar_size_px must be between 16 and 1024")
    if not 1 <= auth.avatar_max_side_px <= 4096:
        # the ceiling is images.MAX_IMAGE_PIXELS' side: above it Pillow refuses anyway
        problems.append("auth.avatar_max_side_px must be between 1 and 4096")
    return problems
