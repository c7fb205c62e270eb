"""Keep what clients send out of the server's log when aiohttp cannot parse it.

aiohttp logs a request it cannot parse ("Error handling request", at ERROR, on
``aiohttp.server``) with a traceback whose message quotes the offending bytes:
a header line, credentials included (a valid API key followed by a NUL byte
was written to the log whole). Anyone can send such requests, so they would
also fill the log with tracebacks. The client already has its 400; the log
keeps one line naming the kind of error, without the bytes.
"""

import logging

from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["install_log_redaction"]


class MalformedRequestFilter(logging.Filter):
    """Turns aiohttp's record of an unparsable request into one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg = "refused a malformed HTTP request (%s, status %s)"
            record.args = (type(error).__name__, error.code)
            record.exc_info = record.exc_text = record.stack_info = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_FILTER = MalformedRequestFilter()


def install_log_redaction() -> None:
    """Attach the filter to aiohttp's server logger (once, whoever calls it)."""
    logger = logging.getLogger("aiohttp.server")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
