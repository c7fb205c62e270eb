"""Value normalization shared by filters and writes: text, domains and emails."""

import re
import unicodedata
from urllib.parse import urlsplit

_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[\w-]{2,}")
_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\]\\]+@[\w-]+(?:\.[\w-]+)*\.[\w-]{2,}")


def composed(text: str) -> str:
    """``text`` in Unicode's composed form (NFC): "é" one character, as typed on
    most systems, not "e" and a combining accent (macOS file names, some CSV
    exports). Filters compose their values (``core.filters``), so the API's
    writes and the CSV import store text composed: else "Résumé Labs" typed
    either way could not find the other. ASCII is its own NFC (``isascii`` is a
    flag check, so this costs nothing on most cells)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def normalize_domain(text: str) -> str | None:
    """The bare lower-case host of a website or domain (docs/api.md ``domain``):
    ``https://www.TechCorp.com/x`` -> ``techcorp.com``; None without a plausible host."""
    text = text.strip()
    if "://" not in text:
        text = "http://" + text.lstrip("/")
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").removeprefix("www.")
    return host if _DOMAIN.fullmatch(host) else None


def normalize_email(text: str) -> str | None:
    """Trimmed, lower-cased; None when it is not an email address."""
    email = text.strip().lower()
    return email if _EMAIL.fullmatch(email) else None
