"""SQLAlchemy Core as a query builder for aiopg.

``aiopg.sa`` does not work with SQLAlchemy 2, so statements are compiled here
for the psycopg2 dialect (pyformat ``%(name)s`` placeholders, bind processors
applied so that e.g. JSONB dicts are adapted) and executed as text by
``core.resources.database.Database``.

Compiling costs ~0.05-1 ms per statement, so ``compile_sql`` compiles each
statement *shape* once: SQLAlchemy's own cache key (what its engines cache
compiled statements by: the structure, without the bound values) finds the
compiled form, and only the values are taken from the new statement (the
list filters' conditions repeat their shape with new values on every request).
A statement SQLAlchemy cannot key (a construct without ``inherit_cache``) is
compiled every time. For statements whose shape is fixed in the code, build
them once with ``sqlalchemy.bindparam`` and wrap them in ``Prepared``: that
also saves building the expression.

Every statement is compiled with SQLAlchemy's FROM linting: a SELECT whose
FROM list holds a table nothing joins to the others (a WHERE on ``companies``
over ``FROM contacts``: a filter whose join was forgotten) is refused with
``CartesianProduct`` instead of silently counting every pair of rows.
"""

import warnings
from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SAWarning
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import FROM_LINTING

__all__ = ["DIALECT", "CartesianProduct", "Prepared", "compile_sql"]

DIALECT = postgresql.psycopg2.dialect()  # type: ignore[attr-defined]


class CartesianProduct(Exception):
    """A statement joins tables without a join condition: a bug in the code
    that built it (for filters: a join their ``needs`` asks for is missing)."""


def _compile(statement: ClauseElement, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        # Compiling is synchronous: no other code runs while the filter is set.
        warnings.filterwarnings("error", message=".*cartesian product", category=SAWarning)
        try:
            return statement.compile(dialect=DIALECT, linting=FROM_LINTING, **kwargs)
        except SAWarning as warning:
            raise CartesianProduct(
                f"refusing SQL with a cartesian product: {warning} (a filter's join missing?)"
            ) from None


def _processors(compiled: Any) -> dict[str, Any]:
    processors = {}
    for name, bind in compiled.binds.items():
        processor = bind.type._cached_bind_processor(DIALECT)
        if processor is not None:
            processors[name] = processor
    return processors


def _compile_fresh(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    compiled = _compile(statement, compile_kwargs={"render_postcompile": True})
    params = dict(compiled.params)
    for name, processor in _processors(compiled).items():
        if name in params:
            params[name] = processor(params[name])
    return str(compiled), params


class _Shape:
    """A statement compiled once for its cache key, and its bind processors."""

    __slots__ = ("compiled", "processors", "expands")

    def __init__(self, statement: ClauseElement, cache_key: Any):
        self.compiled = _compile(statement, cache_key=cache_key)
        self.processors = _processors(self.compiled)
        # IN lists ("expanding") and literal-rendered values are written into
        # the SQL per set of values
        compiled = self.compiled
        self.expands = bool(compiled.literal_execute_params or compiled.post_compile_params)

    def render(self, cache_key: Any) -> tuple[str, dict[str, Any]]:
        compiled = self.compiled
        params = compiled.construct_params(
            extracted_parameters=cache_key[1],
            _collected_params=cache_key[2] if len(cache_key) > 2 else None,
            _no_postcompile=True,
            _check=False,  # as ``compiled.params``: a template's markers have no value yet
        )
        sql = compiled.string
        if self.expands:
            expanded = compiled._process_parameters_for_postcompile(params)
            sql, params = expanded.statement, dict(expanded.parameters)
        for name, processor in self.processors.items():
            if name in params:
                params[name] = processor(params[name])
        return sql, params


_SHAPES: dict[Any, _Shape] = {}
MAX_SHAPES = 2048


def compile_sql(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """Compile a statement to ``(sql, params)`` ready for ``cursor.execute``
    (once per shape, see the module docstring); ``CartesianProduct`` for a
    SELECT missing a join."""
    cache_key = statement._generate_cache_key()
    if cache_key is None:  # SQLAlchemy cannot tell its shape: compile it whole
        return _compile_fresh(statement)
    shape = _SHAPES.get(cache_key.key)
    if shape is None:
        shape = _Shape(statement, cache_key)
        if len(_SHAPES) >= MAX_SHAPES:
            _SHAPES.clear()
        _SHAPES[cache_key.key] = shape
    return shape.render(cache_key)


class Prepared:
    """A statement compiled once; ``params(**values)`` applies bind processors.

    >>> FIND = Prepared(select(users).where(users.c.email == bindparam("email")))
    >>> await db.fetch_one(FIND.sql, FIND.params(email="a@b.c"))
    """

    __slots__ = ("sql", "_defaults", "_processors")

    def __init__(self, statement: ClauseElement):
        compiled = _compile(statement)
        self.sql = str(compiled)
        self._defaults = {k: v for k, v in compiled.params.items() if v is not None}
        self._processors = _processors(compiled)

    def params(self, **values: Any) -> dict[str, Any]:
        merged = {**self._defaults, **values}
        for name, processor in self._processors.items():
            if name in merged:
                merged[name] = processor(merged[name])
        return merged
