"""CSV import over HTTP (multipart and text/csv) and through the CLI."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import httpx

from novacron.corporate.imports import csv_import as ci
from novacron.testing.corporate import CorporateServer

TARGETS = b"name,category,revenue\nAcme,storage,100\nBeta,security,\n"
BAD = b"Name,Category,Revenue\nAcme,storage,100\nBeta,warp drives,ten\nGamma,ai/ml,\n"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def listed(corp: CorporateServer, noun: str) -> list[str]:
    return sorted(t["name"] for t in ok(corp.api.get(f"/corporate/{noun}"))["items"])


def test_import_targets_and_partners_over_http(corp: CorporateServer) -> None:
    api = corp.api
    csv_headers = {"Content-Type": "text/csv"}
    # a rejected file: 422 problem+json carrying the row-level report, nothing written
    response = api.post("/corporate/targets/import", content=BAD, headers=csv_headers)
    problem = ok(response, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/invalid") and problem["status"] == 422
    assert (problem["created"], problem["rows"], problem["valid"]) == (0, 3, 2)
    assert problem["detail"].startswith("1 row(s) with errors: no target imported")
    assert [(e["row"], e["field"], e["column"], e["value"]) for e in problem["errors"]] == [
        (3, "category", "Category", "warp drives"),
        (3, "revenue", "Revenue", "ten"),
    ]
    assert problem["errors"][0]["loc"] == ["row", 3, "category"]
    assert listed(corp, "targets") == []

    # dry run of a good file: 200, nothing written
    report = ok(api.post("/corporate/targets/import", params={"dry_run": "true"},
                         content=TARGETS, headers=csv_headers))  # fmt: skip
    assert report == {"created": 0, "rows": 2, "valid": 2, "dry_run": True, "partial": False,
                      "errors": []}  # fmt: skip
    assert listed(corp, "targets") == []

    # partial: the good rows go in, the report lists the rest
    report = ok(api.post("/corporate/targets/import", params={"partial": "true"}, content=BAD,
                         headers=csv_headers))  # fmt: skip
    assert (report["created"], len(report["errors"])) == (2, 2)
    assert listed(corp, "targets") == ["Acme", "Gamma"]
    gamma = ok(api.get("/corporate/targets/Gamma"))
    assert gamma["category"] == "ai_ml" and gamma["created_by"] == "admin"

    # multipart upload, UTF-8 with BOM; duplicates against what exists are per row
    data = codecs.BOM_UTF8 + "name,category\nZürich AG,storage\nacme,storage\n".encode()
    response = api.post("/corporate/targets/import", params={"partial": "true"},
                        files={"file": ("t.csv", data, "text/csv")})  # fmt: skip
    report = ok(response)
    assert report["created"] == 1
    assert [(e["row"], e["field"], e["value"]) for e in report["errors"]] == [(3, "name", "acme")]
    assert "Zürich AG" in listed(corp, "targets")

    # partners, with a contact
    partners = b"name,type,currency,contact_name,contact_email\nGlobex,cloud,USD,Ann,a@g.example\n"
    report = ok(api.post("/corporate/partners/import",
                         files={"file": ("p.csv", partners, "text/csv")}))  # fmt: skip
    assert report["created"] == 1
    assert ok(api.get("/corporate/partners/Globex"))["contacts"][0]["email"] == "a@g.example"

    # file-level refusals
    problem = ok(api.post("/corporate/partners/import", files={"other": ("p.csv", b"x")}), 422)
    assert problem["errors"][0]["loc"] == ["body", "file"]
    big = b"name,category\n" + b"x" * (ci.MAX_BYTES + 1)
    problem = ok(api.post("/corporate/targets/import", content=big, headers=csv_headers), 422)
    assert "limit is 5 MB" in problem["detail"] and problem["errors"][0]["loc"] == ["file"]
    problem = ok(api.post("/corporate/targets/import", content="name,category\nÉ,storage\n"
                          .encode("cp1252"), headers=csv_headers), 422)  # fmt: skip
    assert "not valid utf-8" in problem["detail"]


def test_cli_import_table_json_and_one_line_error(corp: CorporateServer, tmp_path: Path) -> None:
    cli = corp.cli
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD)
    result = cli("corporate", "import", "targets", str(bad), ok=False)
    assert result.exit_code == 1
    header, *rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert header == ["ROW", "FIELD", "VALUE", "MESSAGE"]
    assert rows[0][:4] == ["3", "category", "warp", "drives"]
    assert rows[1][:4] == ["3", "revenue", "ten", "Input"]
    line = cli.error("corporate", "import", "targets", str(bad))
    assert line == (
        "error: 1 row(s) with errors: no target imported; 2 of 3 row(s) valid "
        "(--partial / partial=true imports the valid rows)"
    )

    out = cli("corporate", "import", "targets", str(bad), "--dry-run", "--partial").stdout
    assert out.splitlines()[0] == "dry run: 2 of 3 row(s) valid, nothing written"
    assert listed(corp, "targets") == []
    out = cli("corporate", "import", "targets", str(bad), "--partial").stdout
    assert out.splitlines()[0] == "created 2 target(s) from 3 row(s)"
    assert "warp drives" in out

    good = tmp_path / "partners.csv"
    good.write_text("name,type,currency\nGlobex,Cloud,usd\nInitech,Reseller,EUR\n", "utf-16")
    report = cli.json("corporate", "import", "partners", str(good))
    assert (report["created"], report["errors"]) == (2, [])
    assert listed(corp, "partners") == ["Globex", "Initech"]

    line = cli.error("corporate", "import", "partners", str(tmp_path / "missing.csv"))
    assert line.startswith("error: ") and "cannot read" in line and "missing.csv" in line
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,category\nÉclair,storage\n".encode("cp1252"))
    assert "byte 0xc9" in cli.error("corporate", "import", "targets", str(latin))
    out = cli("corporate", "import", "targets", str(latin), "--encoding", "cp1252").stdout
    assert out.startswith("created 1 target(s)")
