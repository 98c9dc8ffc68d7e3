"""Secrets over the real API (file key provider): round trip, tenancy, roles, what never
leaks (database file, server log, audit log, listings), key rotation end to end.

One server for the folder (``world`` in conftest); tests make their own names."""

from __future__ import annotations

import json
import logging

import httpx
from secretsapi_helpers import World, data_files_bytes, unique

from novacron.security.secrets.redact import MASK

# Shapes that would survive a careless log line or a JSON dump: spaces, quotes, unicode.
VALUE = 'pa55 "w0rd" ünïcødé-\N{SNOWMAN}-S3cr3t-7f1c'


def put(api: httpx.Client, name: str, value: str) -> dict[str, object]:
    resp = api.put(f"/secrets/{name}", json={"value": value})
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


def reveal(api: httpx.Client, name: str) -> httpx.Response:
    return api.get(f"/secrets/{name}", params={"reveal": "true"})


def audit_records(world: World, action: str) -> list[dict[str, object]]:
    resp = world.cluster.api.get("/audit", params={"action": action, "limit": 1000})
    assert resp.status_code == 200, resp.text
    items: list[dict[str, object]] = resp.json()["items"]
    return items


def test_round_trip(world: World) -> None:
    api, name = world.alpha_admin, unique("db/password")
    first = put(api, name, VALUE)
    assert first["revision"] == 1 and first["project_id"] != world.beta
    assert first["key_id"] and "value" not in first
    second = put(api, name, VALUE + "-2")
    assert second["revision"] == 2 and second["created_at"] == first["created_at"]
    assert second["created_by"] == first["created_by"] != ""

    plain = api.get(f"/secrets/{name}")
    assert plain.status_code == 200 and plain.json()["value"] is None
    shown = reveal(api, name)
    assert shown.status_code == 200, shown.text
    assert shown.json()["value"] == VALUE + "-2"
    assert shown.headers["cache-control"] == "no-store"

    assert api.delete(f"/secrets/{name}").status_code == 204
    assert reveal(api, name).status_code == 404
    assert api.delete(f"/secrets/{name}").status_code == 404


def test_values_are_exact_including_whitespace_and_newlines(world: World) -> None:
    name, value = unique("pem"), "  -----BEGIN KEY-----\nAAAA\n-----END KEY-----\n"
    put(world.alpha_admin, name, value)
    assert reveal(world.alpha_admin, name).json()["value"] == value


def test_list_never_shows_values_and_pages_by_name(world: World) -> None:
    api, prefix = world.alpha_admin, unique("page")
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        put(api, name, VALUE)
    resp = api.get("/secrets", params={"limit": 1000})
    assert resp.status_code == 200
    assert VALUE not in resp.text and '"value"' not in resp.text
    listed = [s["name"] for s in resp.json()["items"]]
    assert [n for n in listed if n.startswith(prefix)] == names
    assert listed == sorted(listed)

    first = api.get("/secrets", params={"after": names[0], "limit": 1}).json()
    assert [s["name"] for s in first["items"]] == [names[1]] and first["next_after"] == names[1]
    rest = api.get("/secrets", params={"after": names[1], "limit": 1000}).json()
    assert rest["items"][0]["name"] == names[2] and rest["next_after"] is None


def test_another_project_cannot_read_a_secret(world: World) -> None:
    name = unique("alpha-only")
    put(world.alpha_admin, name, VALUE)
    beta = world.beta_admin
    # In its own project the name does not exist...
    assert beta.get(f"/secrets/{name}").status_code == 404
    assert reveal(beta, name).status_code == 404
    assert beta.delete(f"/secrets/{name}").status_code == 404
    assert name not in beta.get("/secrets", params={"limit": 1000}).text
    # ...and it may not act in alpha at all.
    into_alpha = {"X-NovaCron-Project": world.alpha}
    refused = beta.get(f"/secrets/{name}", params={"reveal": "true"}, headers=into_alpha)
    assert refused.status_code == 403
    # The same name in beta is another secret.
    put(beta, name, "beta's own value")
    assert reveal(beta, name).json()["value"] == "beta's own value"
    assert reveal(world.alpha_admin, name).json()["value"] == VALUE


def test_viewers_list_names_but_cannot_reveal_or_change(world: World) -> None:
    name = unique("viewed")
    put(world.alpha_admin, name, VALUE)
    viewer = world.alpha_viewer
    listed = viewer.get("/secrets", params={"limit": 1000})
    assert listed.status_code == 200 and name in listed.text and VALUE not in listed.text
    assert viewer.get(f"/secrets/{name}").json()["value"] is None
    denied = reveal(viewer, name)
    assert denied.status_code == 403 and VALUE not in denied.text
    assert viewer.put(f"/secrets/{name}", json={"value": "x" * 8}).status_code == 403
    assert viewer.delete(f"/secrets/{name}").status_code == 403
    # A read-only token of a project admin cannot reveal either: revealing needs write.
    reader = world.alpha_reader_token
    assert reader.get(f"/secrets/{name}").status_code == 200
    assert reveal(reader, name).status_code == 403
    assert reveal(world.alpha_admin, name).json()["value"] == VALUE


def test_bad_input_is_a_problem_with_field_paths(world: World) -> None:
    api = world.alpha_admin
    bad_name = api.put("/secrets/-leading-dash", json={"value": "v"})
    assert bad_name.status_code == 422
    assert bad_name.json()["errors"][0]["loc"] == ["name"]
    assert api.put(f"/secrets/{unique('n')}", json={}).status_code == 422
    assert api.put(f"/secrets/{unique('n')}", json={"value": 5}).status_code == 422
    extra = api.put(f"/secrets/{unique('n')}", json={"value": "v", "x": 1})
    assert extra.status_code == 422
    big = api.put(f"/secrets/{unique('n')}", json={"value": "x" * (64 * 1024 + 1)})
    assert big.status_code == 422 and "limit" in big.json()["detail"]


def test_value_is_not_in_the_database_file_the_server_log_or_the_audit_log(
    world: World,
) -> None:
    name = unique("leak-check")
    put(world.alpha_admin, name, VALUE)
    assert reveal(world.alpha_admin, name).json()["value"] == VALUE
    put(world.alpha_admin, name, VALUE + "-v2")
    reveal(world.alpha_viewer, name)  # refused: audited as a denial

    stored = data_files_bytes(world.cluster.settings.data_dir)
    assert name.encode() in stored and b"nsec$1$" in stored  # the rows are there, sealed
    assert VALUE.encode() not in stored and VALUE.encode("utf-16-le") not in stored

    # What the code logged, before any masking, and the log file as written.
    raw = "\n".join(world.raw_log.lines)
    assert "novacron.security.secrets" in raw  # the log did capture the secrets code
    assert VALUE not in raw
    assert VALUE not in world.log_file.read_text(encoding="utf-8")

    audit = world.cluster.api.get("/audit", params={"limit": 1000})
    assert audit.status_code == 200 and name in audit.text
    assert VALUE not in audit.text and json.dumps(VALUE)[1:-1] not in audit.text
    puts = [r for r in audit_records(world, "secret.put") if r["target"] == f"secret:{name}"]
    assert len(puts) == 2 and {r["outcome"] for r in puts} == {"success"}
    reads = [r for r in audit_records(world, "secret.read") if r["target"] == f"secret:{name}"]
    assert len(reads) == 1 and reads[0]["status_code"] == 200


def test_the_server_log_masks_a_value_that_slips_into_a_log_line(world: World) -> None:
    name = unique("slip")
    put(world.alpha_admin, name, VALUE + "-slip")
    # A library logging a value it was handed: the server's handlers mask it.
    logging.getLogger("thirdparty.client").warning("connecting with %s", VALUE + "-slip")
    text = world.log_file.read_text(encoding="utf-8")
    assert f"connecting with {MASK}" in text and VALUE + "-slip" not in text


def test_delete_is_audited_without_the_value(world: World) -> None:
    name = unique("gone")
    put(world.alpha_admin, name, VALUE)
    assert world.alpha_admin.delete(f"/secrets/{name}").status_code == 204
    deletes = [r for r in audit_records(world, "secret.delete") if r["target"] == f"secret:{name}"]
    assert len(deletes) == 1 and deletes[0]["status_code"] == 204
    assert VALUE not in json.dumps(deletes)


def test_master_keys_are_for_platform_admins_only(world: World) -> None:
    for api in (world.alpha_admin, world.beta_admin):
        assert api.get("/security/keys").status_code == 403
        assert api.post("/security/keys/rotate").status_code == 403
        assert api.post("/security/keys/rewrap").status_code == 403
        assert api.delete("/security/keys/anything").status_code == 403


def keys(world: World) -> dict[str, object]:
    resp = world.admin.get("/security/keys")
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


def usage(world: World) -> dict[str, int]:
    return {k["id"]: k["secrets"] for k in keys(world)["keys"]}  # type: ignore[attr-defined]


def all_secrets(api: httpx.Client) -> list[dict[str, object]]:
    items: list[dict[str, object]] = api.get("/secrets", params={"limit": 1000}).json()["items"]
    return items


def test_rotate_rewrap_retire(world: World) -> None:
    values = {unique("rot-a"): "alpha one", unique("rot-b"): "alpha two"}
    for name, value in values.items():
        put(world.alpha_admin, name, value)
    beta_name = unique("rot-beta")
    put(world.beta_admin, beta_name, "beta one")
    old = str(keys(world)["current"])
    total = sum(usage(world).values())
    assert usage(world)[old] >= 3

    rotated = world.admin.post("/security/keys/rotate")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["key_id"]
    assert rotated.json()["previous"] == old and new != old
    listing = keys(world)
    assert listing["current"] == new and listing["provider"] == "file"
    # Nothing moved yet, every value still reads; new writes use the new key.
    assert usage(world)[new] == 0
    for name, value in values.items():
        assert reveal(world.alpha_admin, name).json()["value"] == value
    fresh = put(world.alpha_admin, unique("rot-new"), "written after rotation")
    assert fresh["key_id"] == new

    # The old key still wraps records; the current key can never be retired.
    busy = world.admin.delete(f"/security/keys/{old}")
    assert busy.status_code == 409 and "rewrap" in busy.json()["detail"]
    assert world.admin.delete(f"/security/keys/{new}").status_code == 409

    report = world.admin.post("/security/keys/rewrap", json={"batch_size": 2})
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["complete"] and body["failed"] == [] and body["current_key"] == new
    assert body["scanned"] == total + 1 and body["rewrapped"] == total
    assert body["already_current"] == 1 and body["batches"] >= 2
    after = usage(world)
    assert after[old] == 0 and after[new] == total + 1 and sum(after.values()) == total + 1
    assert {s["key_id"] for s in all_secrets(world.alpha_admin)} == {new}
    assert {s["key_id"] for s in all_secrets(world.beta_admin)} == {new}
    for name, value in values.items():
        assert reveal(world.alpha_admin, name).json()["value"] == value
    assert reveal(world.beta_admin, beta_name).json()["value"] == "beta one"
    again = world.admin.post("/security/keys/rewrap").json()
    assert again["rewrapped"] == 0 and again["already_current"] == total + 1

    assert world.admin.delete(f"/security/keys/{old}").status_code == 204
    assert old not in usage(world) and new in usage(world)
    key_file = (world.cluster.settings.data_dir / "master-keys.json").read_text()
    assert old not in key_file and new in key_file
    for name, value in values.items():
        assert reveal(world.alpha_admin, name).json()["value"] == value
    assert world.admin.delete(f"/security/keys/{old}").status_code == 404

    for action, target in (
        ("key.rotate", f"key:{new}"),
        ("key.rewrap", f"key:{new}"),
        ("key.retire", f"key:{old}"),
    ):
        assert any(r["target"] == target for r in audit_records(world, action)), action
