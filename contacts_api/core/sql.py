"""SQLAlchemy Core as a query builder for aiopg.

``aiopg.sa`` does not work with SQLAlchemy 2, so statements are compiled here
for the psycopg2 dialect (pyformat ``%(name)s`` placeholders, bind processors
applied so that e.g. JSONB dicts are adapted) and executed as text by
``core.resources.database.Database``.

Compiling costs ~0.1-1 ms per statement. For statements whose *shape* is
fixed (only values change), build them once with ``sqlalchemy.bindparam`` and
wrap them in ``Prepared``: they compile once and run from cached SQL text.
"""

from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ClauseElement

__all__ = ["DIALECT", "Prepared", "compile_sql"]

DIALECT = postgresql.psycopg2.dialect()  # type: ignore[attr-defined]


def _processors(compiled: Any) -> dict[str, Any]:
    processors = {}
    for name, bind in compiled.binds.items():
        processor = bind.type._cached_bind_processor(DIALECT)
        if processor is not None:
            processors[name] = processor
    return processors


def compile_sql(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """Compile a statement to ``(sql, params)`` ready for ``cursor.execute``."""
    compiled = statement.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    params = dict(compiled.params)
    for name, processor in _processors(compiled).items():
        if name in params:
            params[name] = processor(params[name])
    return str(compiled), params


class Prepared:
    """A statement compiled once; ``params(**values)`` applies bind processors.

    >>> FIND = Prepared(select(users).where(users.c.email == bindparam("email")))
    >>> await db.fetch_one(FIND.sql, FIND.params(email="a@b.c"))
    """

    __slots__ = ("sql", "_defaults", "_processors")

    def __init__(self, statement: ClauseElement):
        compiled = statement.compile(dialect=DIALECT)
        self.sql = str(compiled)
        self._defaults = {k: v for k, v in compiled.params.items() if v is not None}
        self._processors = _processors(compiled)

    def params(self, **values: Any) -> dict[str, Any]:
        merged = {**self._defaults, **values}
        for name, processor in self._processors.items():
            if name in merged:
                merged[name] = processor(merged[name])
        return merged
