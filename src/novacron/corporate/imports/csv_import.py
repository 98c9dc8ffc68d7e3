"""Reading a CSV of targets or partners into validated create requests, row by row.

Pure code (no database): the service creates the rows. Conventions:

- **Rows** are numbered as a spreadsheet shows them: the header is row 1, the first
  record row 2 (a quoted cell spanning lines is still one row). Blank rows are skipped
  but keep their number.
- **Header** cells match the create schema's fields ignoring case, spaces, hyphens and
  underscores (``Custom Category`` → ``custom_category``). An unknown or repeated column,
  or a missing required one, is an error on row 1 and nothing is imported: a misspelt
  column would otherwise drop its data silently.
- **Cells**: empty means "not given" (the schema's default applies). Choice fields accept
  any case and spaces (``System Integrator`` → ``system_integrator``, ``AI/ML`` →
  ``ai_ml``); ``currency`` and ``country`` codes are upper-cased. Everything else is
  validated by the same pydantic schema the API uses.
- **Encoding**: UTF-8 with or without a BOM, UTF-16 with a BOM, or the caller's
  ``encoding``; anything else is refused with the byte offset, never guessed.
- **Delimiter**: comma, or semicolon/tab when the header uses one (European Excel).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from novacron.core.errors import Invalid

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
UPPER_FIELDS = frozenset({"currency", "country"})


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: the row as numbered in the file, the field (None for the whole row),
    what is wrong and the offending cell text."""

    row: int
    field: str | None
    msg: str
    value: str | None = None
    column: str | None = None
    """The header as written in the file, when the field came from a column."""

    def as_dict(self) -> dict[str, Any]:
        loc: list[str | int] = ["row", self.row]
        if self.field:
            loc.append(self.field)
        return {
            "loc": loc,
            "row": self.row,
            "field": self.field,
            "column": self.column,
            "msg": self.msg,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class ImportSpec:
    """What one CSV holds: the create schema and any columns that fill a nested list
    (``contact_email`` → ``contacts[0].email``)."""

    noun: str
    schema: type[BaseModel]
    nested: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    key_field: str = "name"

    def columns(self) -> dict[str, str]:
        """Normalized column name → field path (``"contacts.email"`` for nested ones)."""
        required = self.required()
        fields = sorted(
            self.schema.model_fields, key=lambda n: (n != self.key_field, n not in required)
        )
        out = {name: name for name in fields if name not in self.nested_lists}
        out.update({col: f"{lst}.{sub}" for col, (lst, sub) in self.nested.items()})
        return out

    @property
    def nested_lists(self) -> frozenset[str]:
        return frozenset(lst for lst, _ in self.nested.values())

    def required(self) -> list[str]:
        return [n for n, f in self.schema.model_fields.items() if f.is_required()]


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    model: BaseModel
    key: str
    """The case-folded natural key (the name), for duplicate detection."""
    cells: Mapping[str, tuple[str, str]]
    """Field path → (column header as written, raw cell text)."""

    def cell(self, path: str) -> tuple[str | None, str | None]:
        header, raw = self.cells.get(path, (None, None))
        return header, raw


@dataclass(slots=True)
class ParsedFile:
    rows: int = 0
    """Non-blank data rows."""
    valid: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    fatal: bool = False
    """The header is unusable: no row can be read, none is imported."""


# ------------------------------------------------------------------ bytes → text


def check_size(size: int) -> None:
    if size > MAX_BYTES:
        msg = f"the file is {size / 1_048_576:.1f} MB; the limit is {MAX_BYTES // 1_048_576} MB"
        raise Invalid(f"{msg}: split it into smaller files", errors=[{"loc": ["file"], "msg": msg}])


def _unknown_encoding(encoding: str) -> Invalid:
    return Invalid(
        f"unknown encoding {encoding!r}",
        errors=[{"loc": ["encoding"], "msg": "not a known text encoding"}],
    )


def decode(data: bytes, encoding: str | None = None) -> str:
    """The file's text: BOMs honoured, UTF-8 by default, ``encoding`` when given."""
    check_size(len(data))
    if encoding:
        try:
            codecs.lookup(encoding)
        except (LookupError, ValueError):  # ValueError: a NUL byte in the name
            raise _unknown_encoding(encoding) from None
    if data.startswith(codecs.BOM_UTF8):
        name, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        name, body = "utf-16", data
    else:
        name, body = encoding or "utf-8", data
    try:
        return body.decode(name).lstrip("\ufeff")
    except LookupError:  # a codec, but not of text: base64, rot13, zlib…
        raise _unknown_encoding(name) from None
    except UnicodeDecodeError as exc:
        byte = body[exc.start : exc.start + 1].hex()
        msg = (
            f"the file is not valid {name}: byte 0x{byte} at offset {exc.start}; "
            "save it as CSV UTF-8 or give its encoding (e.g. cp1252)"
        )
        raise Invalid(msg, errors=[{"loc": ["file"], "msg": msg}]) from None


# ------------------------------------------------------------------ header


def normalize(header: str) -> str:
    """``" Custom-Category "`` → ``custom_category``."""
    return re.sub(r"[\s_\-.]+", "_", header.strip().lstrip("\ufeff").casefold()).strip("_")


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _map_header(spec: ImportSpec, header: Sequence[str]) -> tuple[list[str | None], list[RowError]]:
    """Per column, the field path it fills (None: a blank header, ignored)."""
    known = spec.columns()
    mapped: list[str | None] = []
    errors: list[RowError] = []
    seen: dict[str, str] = {}
    for text in header:
        key = normalize(text)
        if not key:
            mapped.append(None)
            continue
        path = known.get(key)
        if path is None:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = f"unknown column; {hint}expected some of: {', '.join(known)}"
            errors.append(RowError(1, key, msg, text, text))
        elif path in seen:
            errors.append(RowError(1, key, f"repeats column {seen[path]!r}", text, text))
        else:
            seen[path] = text
        mapped.append(path)
    for name in spec.required():
        if name not in seen:
            errors.append(RowError(1, name, "required column is missing"))
    return mapped, errors


# ------------------------------------------------------------------ rows


def _choices(annotation: Any) -> tuple[str, ...]:
    """The allowed strings of a ``Literal`` field (through ``| None`` and ``Annotated``)."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return tuple(c for a in typing.get_args(annotation) for c in _choices(a))
    return ()


def _clean(spec: ImportSpec, path: str, value: str) -> str:
    name = path.split(".")[-1]
    if name in UPPER_FIELDS:
        return value.upper()
    info = spec.schema.model_fields.get(path)
    choices = _choices(info.annotation) if info is not None else ()
    if choices and value not in choices:
        folded = re.sub(r"[\s/\-]+", "_", value.casefold())
        if folded in choices:
            return folded
    return value


def _row_data(
    spec: ImportSpec, mapped: Sequence[str | None], header: Sequence[str], cells: Sequence[str]
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    data: dict[str, Any] = {}
    raw: dict[str, tuple[str, str]] = {}
    for path, text, cell in zip(mapped, header, cells, strict=False):
        value = cell.strip()
        if path is None or not value:
            continue
        raw[path] = (text, cell)
        value = _clean(spec, path, value)
        if "." in path:
            lst, sub = path.split(".", 1)
            data.setdefault(lst, [{}])[0][sub] = value
        else:
            data[path] = value
    return data, raw


def _path_of(loc: Sequence[Any], spec: ImportSpec) -> str | None:
    """pydantic's ``("contacts", 0, "email")`` → ``contacts.email``; ``("name",)`` → name."""
    parts = [p for p in loc if not isinstance(p, int)]
    if not parts:
        return None
    if parts[0] in spec.nested_lists and len(parts) > 1:
        return f"{parts[0]}.{parts[1]}"
    return str(parts[0])


def field_name(spec: ImportSpec, path: str | None) -> str | None:
    """The column name a field path is reported under (``contacts.email`` → contact_email)."""
    if path is None or "." not in path:
        return path
    for col, (lst, sub) in spec.nested.items():
        if path == f"{lst}.{sub}":
            return col
    return path


def _validation_errors(
    spec: ImportSpec, row: int, exc: ValidationError, raw: Mapping[str, tuple[str, str]]
) -> list[RowError]:
    out = []
    for err in exc.errors():
        path = _path_of(err["loc"], spec)
        header, cell = raw.get(path or "", (None, None))
        msg = str(err["msg"])
        if err["type"] == "missing":
            msg = "required"
        out.append(RowError(row, field_name(spec, path), msg, cell, header))
    return out


def parse(spec: ImportSpec, text: str) -> ParsedFile:
    """Every row validated; duplicates within the file (by case-folded name) reported on
    the later rows. Raises ``Invalid`` only for a file too big to read (rows > MAX_ROWS)."""
    out = ParsedFile()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        out.errors.append(RowError(1, None, "the file is empty: expected a header row"))
        out.fatal = True
        return out
    mapped, errors = _map_header(spec, header)
    if errors:
        out.errors.extend(errors)
        out.fatal = True
    first_seen: dict[str, int] = {}
    for row, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        out.rows += 1
        if out.rows > MAX_ROWS:
            msg = f"the file has more than {MAX_ROWS:,} rows"
            raise Invalid(f"{msg}: split it", errors=[{"loc": ["file"], "msg": msg}])
        if not out.fatal:
            _parse_row(spec, out, row, header, mapped, cells, first_seen)
    return out


def _parse_row(
    spec: ImportSpec,
    out: ParsedFile,
    row: int,
    header: Sequence[str],
    mapped: Sequence[str | None],
    cells: Sequence[str],
    first_seen: dict[str, int],
) -> None:
    stray = [(i, c) for i, (p, c) in enumerate(zip(mapped, cells, strict=False)) if p is None]
    stray = [(i, c) for i, c in stray if c.strip()]
    extra = [c for c in cells[len(header) :] if c.strip()]
    if stray:
        column, value = stray[0]
        msg = f"a value in column {column + 1}, which has no header"
        out.errors.append(RowError(row, None, msg, value))
        return
    if extra:
        msg = f"{len(cells)} cells for {len(header)} columns"
        out.errors.append(RowError(row, None, msg, extra[0]))
        return
    data, raw = _row_data(spec, mapped, header, cells)
    try:
        model = spec.schema.model_validate(data)
    except ValidationError as exc:
        out.errors.extend(_validation_errors(spec, row, exc, raw))
        return
    key = str(getattr(model, spec.key_field)).casefold()
    if key in first_seen:
        header_text, cell = raw.get(spec.key_field, (None, None))
        msg = f"duplicate of row {first_seen[key]} in this file"
        out.errors.append(RowError(row, spec.key_field, msg, cell, header_text))
        return
    first_seen[key] = row
    out.valid.append(ParsedRow(row, model, key, raw))
