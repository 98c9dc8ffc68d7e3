"""Pure CSV parsing: header matching, row-level errors with exact row/field/value,
duplicates within the file, encodings and limits (no database)."""

from __future__ import annotations

import codecs

import pytest

from novacron.core.errors import Invalid
from novacron.corporate.imports import csv_import as ci
from novacron.corporate.imports.service import PARTNERS, TARGETS

T = TARGETS.spec
P = PARTNERS.spec


def errors_of(parsed: ci.ParsedFile) -> list[tuple[int, str | None, str | None]]:
    return [(e.row, e.field, e.value) for e in parsed.errors]


def test_header_matches_ignoring_case_spaces_and_underscores() -> None:
    text = "Name, Category ,Custom-Category,REVENUE,Expected Close On,NDA_signed\n"
    text += "Acme,Custom,Edge AI,1250000.50,2025-09-30,yes\n"
    parsed = ci.parse(T, text)
    assert parsed.errors == []
    (row,) = parsed.valid
    assert row.row == 2
    assert row.model.model_dump(exclude_unset=True) == {
        "name": "Acme",
        "category": "custom",
        "custom_category": "Edge AI",
        "revenue": pytest.approx(1250000.5),
        "expected_close_on": __import__("datetime").date(2025, 9, 30),
        "nda_signed": True,
    }


def test_choice_and_code_cells_are_normalised() -> None:
    parsed = ci.parse(T, "name,category,country,currency\nA,AI/ML,de,eur\nB,Quantum,,\n")
    assert parsed.errors == []
    a, b = (r.model for r in parsed.valid)
    assert (a.category, a.country, a.currency) == ("ai_ml", "DE", "EUR")
    assert (b.category, b.currency) == ("quantum", "USD")  # empty cell: the default


def test_row_errors_name_row_field_and_value() -> None:
    text = (
        "name,category,revenue,employees,website\n"
        "Good,storage,10,5,https://good.example\n"
        "Bad revenue,storage,ten,5,\n"
        "\n"  # blank row 4: skipped, still counted
        "Two faults,teleportation,1,-3,\n"
    )
    parsed = ci.parse(T, text)
    assert parsed.rows == 3
    assert [r.row for r in parsed.valid] == [2]
    assert errors_of(parsed) == [
        (3, "revenue", "ten"),
        (5, "category", "teleportation"),
        (5, "employees", "-3"),
    ]
    assert "greater than or equal to 0" in parsed.errors[2].msg
    assert parsed.errors[0].as_dict()["loc"] == ["row", 3, "revenue"]
    assert parsed.errors[0].column == "revenue"


def test_missing_required_value_and_quoted_multiline_cell() -> None:
    text = 'name,category,description\n,storage,x\n"Multi",storage,"line one\nline two"\nLast,\n'
    parsed = ci.parse(T, text)
    assert errors_of(parsed) == [(2, "name", None), (4, "category", None)]
    assert parsed.errors[0].msg == "required"
    assert parsed.valid[0].model.description == "line one\nline two"


def test_duplicates_within_the_file_are_reported_on_later_rows() -> None:
    parsed = ci.parse(T, "name,category\nAcme,storage\nOther,storage\nACME,security\n")
    assert [r.row for r in parsed.valid] == [2, 3]
    (dup,) = parsed.errors
    assert (dup.row, dup.field, dup.value) == (4, "name", "ACME")
    assert dup.msg == "duplicate of row 2 in this file"


def test_header_problems_fail_the_whole_file() -> None:
    parsed = ci.parse(T, "name,categroy,revenue,Revenue\nAcme,storage,1,2\n")
    assert parsed.fatal
    assert parsed.valid == []
    assert errors_of(parsed) == [
        (1, "categroy", "categroy"),
        (1, "revenue", "Revenue"),
        (1, "category", None),
    ]
    assert parsed.errors[0].msg.startswith(
        "unknown column; did you mean 'category'? expected some of: name, category, "
    )
    assert parsed.errors[1].msg == "repeats column 'revenue'"
    assert ci.parse(T, "").errors[0].msg == "the file is empty: expected a header row"


def test_cells_outside_the_header() -> None:
    parsed = ci.parse(T, "name,category,\nA,storage,\nB,storage,oops\nC,storage,,extra\n")
    assert [r.row for r in parsed.valid] == [2]
    assert errors_of(parsed) == [(3, None, "oops"), (4, None, "extra")]
    assert parsed.errors[0].msg == "a value in column 3, which has no header"


def test_partner_contact_columns_fill_one_contact() -> None:
    text = (
        "name,type,currency,contact_name,contact_email\n"
        "Globex,System Integrator,USD,Ann Lee,ann@globex.example\n"
        "Initech,reseller,USD,Bob,not-an-email\n"
        "Hooli,cloud,usd,,\n"
    )
    parsed = ci.parse(P, text)
    assert errors_of(parsed) == [(3, "contact_email", "not-an-email")]
    globex, hooli = (r.model for r in parsed.valid)
    assert globex.type == "system_integrator"
    assert [c.model_dump() for c in globex.contacts] == [
        {"name": "Ann Lee", "email": "ann@globex.example", "role": "", "phone": ""}
    ]
    assert hooli.contacts == [] and hooli.currency == "USD"


def test_partner_currency_is_required() -> None:
    parsed = ci.parse(P, "name,type\nGlobex,cloud\n")
    assert parsed.fatal and errors_of(parsed) == [(1, "currency", None)]


def test_semicolon_delimited_files() -> None:
    parsed = ci.parse(T, "name;category;revenue\nAcme, Inc.;storage;12.5\n")
    assert parsed.errors == []
    assert parsed.valid[0].model.name == "Acme, Inc."


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + "name,category\nZürich AG,storage\n".encode(),
        "name,category\nZürich AG,storage\n".encode("utf-16"),  # with its BOM
        "name,category\nZürich AG,storage\n".encode(),
    ],
    ids=["utf8-bom", "utf16-bom", "utf8"],
)
def test_encodings_with_and_without_bom(data: bytes) -> None:
    parsed = ci.parse(T, ci.decode(data))
    assert parsed.errors == []
    assert parsed.valid[0].model.name == "Zürich AG"


def test_non_utf8_is_refused_with_the_offset_unless_the_encoding_is_given() -> None:
    data = "name,category\nZürich AG,storage\n".encode("cp1252")
    with pytest.raises(Invalid) as err:
        ci.decode(data)
    assert "byte 0xfc at offset 15" in err.value.detail
    assert err.value.errors[0]["loc"] == ["file"]
    assert ci.parse(T, ci.decode(data, "cp1252")).valid[0].model.name == "Zürich AG"
    with pytest.raises(Invalid) as err:
        ci.decode(data, "klingon")
    assert err.value.errors[0]["loc"] == ["encoding"]


def test_size_and_row_limits() -> None:
    with pytest.raises(Invalid) as err:
        ci.check_size(ci.MAX_BYTES + 1)
    assert "limit is 5 MB" in err.value.detail
    rows = "".join(f"T{i},storage\n" for i in range(ci.MAX_ROWS + 1))
    with pytest.raises(Invalid) as err:
        ci.parse(T, "name,category\n" + rows)
    assert "more than 10,000 rows" in err.value.detail


def test_normalize() -> None:
    assert ci.normalize("\ufeff Expected  Close-On ") == "expected_close_on"
    assert ci.normalize("NDA__Signed") == "nda_signed"
