"""``ordering``: a comma list of fields, each optionally ``-`` prefixed.

Empty values sort last in both directions; ties are broken by ``uuid`` in the
direction of the first field. Text sorts by code point (``COLLATE "C"``), the
same on every deployment. Every key is a column of the listed table itself
(company fields of contacts are trigger-maintained copies), so an ordering
never needs a join and the keyset has a btree to walk.
"""

import attrs
import sqlalchemy as sa

from contacts_api.core.errors import ValidationError

__all__ = ["COMPANY_ORDERING", "CONTACT_ORDERING", "Key", "Ordering", "parse_ordering"]

# field -> (column of the listed table, is text, may be NULL)
CONTACT_ORDERING: dict[str, tuple[str, bool, bool]] = {
    "created_at": ("created_at", False, False),
    "updated_at": ("updated_at", False, False),
    "first_name": ("first_name", True, True),
    "last_name": ("last_name", True, True),
    "email": ("email", True, True),
    "title": ("title", True, True),
    "seniority": ("seniority", True, True),
    "company": ("company_name", True, True),
    "employees": ("company_employees", False, True),
    "annual_revenue": ("company_annual_revenue", False, True),
    "total_funding": ("company_total_funding", False, True),
    "city": ("city", True, True),
    "state": ("state", True, True),
    "country": ("country", True, True),
}
COMPANY_ORDERING: dict[str, tuple[str, bool, bool]] = {
    "created_at": ("created_at", False, False),
    "updated_at": ("updated_at", False, False),
    "name": ("name", True, True),
    "employees": ("employees_count", False, True),
    "annual_revenue": ("annual_revenue", False, True),
    "total_funding": ("total_funding", False, True),
}


@attrs.frozen
class Key:
    column: str
    text: bool
    nullable: bool
    desc: bool
    nulls_last: bool = True

    def reversed(self) -> "Key":
        return attrs.evolve(self, desc=not self.desc, nulls_last=not self.nulls_last)

    def expr(self, selectable):
        col = selectable.c[self.column]
        return col.collate("C") if self.text else col

    def order_by(self, selectable):
        clause = self.expr(selectable).desc() if self.desc else self.expr(selectable).asc()
        if not self.nullable:
            return clause
        return clause.nulls_last() if self.nulls_last else clause.nulls_first()

    def after(self, selectable, value):
        """Rows strictly after ``value`` on this key."""
        col = self.expr(selectable)
        if value is None:
            return sa.false() if self.nulls_last else selectable.c[self.column].isnot(None)
        base = col < value if self.desc else col > value
        if self.nullable and self.nulls_last:
            return sa.or_(base, selectable.c[self.column].is_(None))
        return base

    def equal(self, selectable, value):
        col = selectable.c[self.column]
        return col.is_(None) if value is None else self.expr(selectable) == value


@attrs.frozen
class Ordering:
    """Parsed ordering: ``text`` (canonical, e.g. ``-employees,last_name``) and
    the keys, ending with ``uuid``."""

    text: str
    keys: tuple[Key, ...]

    def reversed(self) -> "Ordering":
        return Ordering(self.text, tuple(k.reversed() for k in self.keys))

    def order_by(self, selectable) -> list:
        return [k.order_by(selectable) for k in self.keys]

    def after(self, selectable, values: list) -> sa.ColumnElement[bool]:
        """The keyset condition: rows after the row whose sort values are ``values``."""
        keys = self.keys
        same = len({k.desc for k in keys}) == 1
        if same and not any(k.nullable for k in keys):
            row = sa.tuple_(*(k.expr(selectable) for k in keys))
            other = sa.tuple_(*(sa.literal(v) for v in values))
            return row < other if keys[0].desc else row > other
        ors = []
        for i, key in enumerate(keys):
            eqs = [keys[j].equal(selectable, values[j]) for j in range(i)]
            ors.append(sa.and_(*eqs, key.after(selectable, values[i])))
        return sa.or_(*ors)


def parse_ordering(
    text: str | None,
    fields: dict[str, tuple[str, bool, bool]],
    default: str = "-created_at",
    param: str = "ordering",
) -> Ordering:
    """422 naming ``ordering`` for an unknown or repeated field."""
    text = (text or "").strip() or default
    keys, seen, names = [], set(), []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        desc, name = part.startswith("-"), part.lstrip("-")
        if name not in fields:
            raise ValidationError.single(
                ("query", param), f"unknown ordering field {name!r}; one of: {', '.join(fields)}"
            )
        if name in seen:
            raise ValidationError.single(("query", param), f"{name!r} is given twice")
        seen.add(name)
        names.append(("-" if desc else "") + name)
        column, is_text, nullable = fields[name]
        keys.append(Key(column, is_text, nullable, desc))
    if not keys:
        return parse_ordering(default, fields, default, param)
    keys.append(Key("uuid", False, False, keys[0].desc))
    return Ordering(",".join(names), tuple(keys))
