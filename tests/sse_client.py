"""A small Server-Sent Events reader for tests (the wire format of core.sse)."""

import json

import attrs


@attrs.frozen
class Event:
    id: str | None
    event: str
    data: dict


async def read_events(response, *, stop_after: int | None = None) -> list[Event]:
    """Parse ``response``'s body into events until it ends (or ``stop_after``
    events were read). Comments and ``retry:`` lines are skipped."""
    assert response.status == 200, await response.text()
    assert response.content_type == "text/event-stream"
    events: list[Event] = []
    fields: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line == "":
            if "data" in fields:
                events.append(
                    Event(
                        fields.get("id"), fields.get("event", "message"), json.loads(fields["data"])
                    )
                )
                if stop_after is not None and len(events) >= stop_after:
                    break
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    return events
