"""SQL of the exports table."""

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from contacts_api.core.resources.database import Database
from contacts_api.plugins.exports.tables import exports

__all__ = ["ExportRepository"]

_PUBLIC = [
    exports.c.id,
    exports.c.owner_id,
    exports.c.kind,
    exports.c.status,
    exports.c.row_count,
    exports.c.file_name,
    exports.c.error,
    exports.c.created_at,
    exports.c.finished_at,
    exports.c.storage_key,
    exports.c.selection,
    exports.c.size_bytes,
]


class ExportRepository:
    def __init__(self, db: Database):
        self.db = db

    async def create(
        self, owner_id: str, selection: dict[str, Any], kind: str = "contacts"
    ) -> dict[str, Any]:
        """A pending export of ``kind`` (``contacts`` or ``companies``), named after it."""
        export_id = uuid.uuid4()
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        file_name = f"{kind}-{stamp}-{export_id.hex[:8]}.csv"
        return await self.db.fetch_one(
            sa.insert(exports)
            .values(
                id=export_id,
                owner_id=owner_id,
                kind=kind,
                status="pending",
                selection=selection,
                file_name=file_name,
                storage_key=f"exports/{export_id}.csv",
                row_count=0,
            )
            .returning(*_PUBLIC)
        )

    async def get(self, export_id: uuid.UUID) -> dict[str, Any] | None:
        return await self.db.fetch_one(sa.select(*_PUBLIC).where(exports.c.id == export_id))

    async def page(
        self, owner_id: str, limit: int, after: tuple[dt.datetime, uuid.UUID] | None
    ) -> list[dict[str, Any]]:
        """Newest first; ``after`` is the (created_at, id) of the previous page's last row."""
        query = sa.select(*_PUBLIC).where(exports.c.owner_id == owner_id)
        if after is not None:
            query = query.where(
                sa.tuple_(exports.c.created_at, exports.c.id)
                < sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            )
        query = query.order_by(exports.c.created_at.desc(), exports.c.id.desc()).limit(limit)
        return await self.db.fetch_all(query)

    async def start(self, export_id: uuid.UUID, lease_s: int) -> dict[str, Any] | None:
        """Take the export: pending, or processing with a heartbeat older than
        ``lease_s`` (its worker died). None when finished or held by a live task."""
        stale = sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, lease_s)
        return await self.db.fetch_one(
            sa.update(exports)
            .where(
                exports.c.id == export_id,
                sa.or_(
                    exports.c.status == "pending",
                    sa.and_(
                        exports.c.status == "processing",
                        sa.or_(exports.c.heartbeat_at.is_(None), exports.c.heartbeat_at < stale),
                    ),
                ),
            )
            .values(
                status="processing",
                started_at=sa.func.now(),
                heartbeat_at=sa.func.now(),
                error=None,
            )
            .returning(*_PUBLIC)
        )

    async def idle_ids(self, idle_s: float) -> list[str]:
        """Unfinished exports without a heartbeat (or, never started, created) for
        ``idle_s`` seconds: no live task runs them."""
        idle_since = sa.func.coalesce(exports.c.heartbeat_at, exports.c.created_at)
        rows = await self.db.fetch_all(
            sa.select(sa.cast(exports.c.id, sa.Text).label("id"))
            .where(
                exports.c.status.in_(("pending", "processing")),
                idle_since < sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, idle_s),
            )
            .order_by(exports.c.created_at)
        )
        return [row["id"] for row in rows]

    async def heartbeat(self, export_id: uuid.UUID) -> None:
        await self.db.execute(
            sa.update(exports).where(exports.c.id == export_id).values(heartbeat_at=sa.func.now())
        )

    async def finish(self, export_id: uuid.UUID, row_count: int, size_bytes: int) -> None:
        await self.db.execute(
            sa.update(exports)
            .where(exports.c.id == export_id)
            .values(
                status="completed",
                row_count=row_count,
                size_bytes=size_bytes,
                finished_at=sa.func.now(),
            )
        )

    async def fail(self, export_id: uuid.UUID, error: str) -> None:
        await self.db.execute(
            sa.update(exports)
            .where(exports.c.id == export_id)
            .values(status="failed", error=error, finished_at=sa.func.now())
        )

    async def older_than(self, cutoff: dt.datetime) -> list[dict[str, Any]]:
        return await self.db.fetch_all(
            sa.select(exports.c.id, exports.c.storage_key).where(exports.c.created_at < cutoff)
        )

    async def delete(self, export_id: uuid.UUID) -> None:
        await self.db.execute(sa.delete(exports).where(exports.c.id == export_id))
