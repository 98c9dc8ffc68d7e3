"""The protocol pieces of single sign-on without a NovaCron server: configuration, the
flow cookie, ID-token validation against the fake provider's JWKS, discovery checks and
user-name sanitising."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fake_idp import FakeIdP
from joserfc import jwt

from novacron.core.config import Settings
from novacron.core.errors import Unauthorized
from novacron.security import oidc
from novacron.testing.cluster import free_port

NONCE = "nonce-for-tests"


def config(idp: FakeIdP) -> oidc.OidcConfig:
    return oidc.OidcConfig(issuer=idp.issuer, client_id=idp.client_id, client_secret="s3cret")


def claims(idp: FakeIdP, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": idp.issuer,
        "aud": idp.client_id,
        "sub": "subject-1",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
    }
    base.update(changes)
    return base


@pytest.fixture(autouse=True)
def well_behaved(idp: FakeIdP) -> None:
    idp.reset(sub="subject-1")


@pytest.fixture
def provider(idp: FakeIdP) -> oidc.Provider:
    return oidc.Provider(idp.issuer)


# -- configuration -------------------------------------------------------------------------


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(data_dir=tmp_path, **values)


def test_sso_is_off_without_an_issuer(tmp_path: Path) -> None:
    assert oidc.OidcConfig.from_settings(settings(tmp_path)) is None


def test_config_from_settings_normalises_issuer_and_scopes(tmp_path: Path) -> None:
    cfg = oidc.OidcConfig.from_settings(
        settings(
            tmp_path,
            oidc_issuer="https://id.example.org/realms/x/",
            oidc_client_id="nc",
            oidc_client_secret="sec",
            oidc_scopes="email profile",
            oidc_default_role="viewer",
        )
    )
    assert cfg is not None
    assert cfg.issuer == "https://id.example.org/realms/x"
    assert cfg.scopes == "openid email profile"
    assert cfg.default_role == "viewer"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"oidc_issuer": "http://id.example.org"}, "https://"),
        ({"oidc_client_secret": None}, "oidc_client_secret are both required"),
        ({"oidc_default_role": "overlord"}, "not one of"),
    ],
)
def test_unusable_settings_say_what_is_wrong(
    tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    base = {"oidc_issuer": "https://id.example.org", "oidc_client_id": "nc"}
    base["oidc_client_secret"] = "sec"
    with pytest.raises(oidc.Misconfigured, match=message):
        oidc.OidcConfig.from_settings(settings(tmp_path, **{**base, **values}))


def test_the_flow_key_depends_on_issuer_and_secret() -> None:
    a = oidc.OidcConfig(issuer="https://a", client_id="c", client_secret="s")
    assert (
        a.flow_key == oidc.OidcConfig(issuer="https://a", client_id="x", client_secret="s").flow_key
    )
    assert (
        a.flow_key != oidc.OidcConfig(issuer="https://b", client_id="c", client_secret="s").flow_key
    )
    assert (
        a.flow_key != oidc.OidcConfig(issuer="https://a", client_id="c", client_secret="t").flow_key
    )


# -- the flow cookie -----------------------------------------------------------------------

KEY = b"k" * 32


def a_flow(issued_at: int = 1_000_000) -> oidc.Flow:
    return oidc.Flow("st", "nn", "v" * 64, "http://127.0.0.1/cb", "/vms", issued_at)


def test_a_sealed_flow_opens_again() -> None:
    flow = a_flow()
    assert oidc.open_flow(oidc.seal_flow(flow, KEY), KEY, now=1_000_100) == flow


@pytest.mark.parametrize(
    ("mangle", "now", "message"),
    [
        (lambda v: v, 1_000_000 + oidc.FLOW_TTL_S + 1, "expired"),
        (lambda v: v, 1_000_000 - 3600, "expired"),
        (lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"), 1_000_100, "tampered"),
        (lambda v: "e30." + v.split(".")[1], 1_000_100, "tampered"),
        (lambda v: "", 1_000_100, "no sign-in is under way"),
        (lambda v: v.split(".")[0] + ".sïgnature", 1_000_100, "tampered"),
    ],
)
def test_a_bad_flow_cookie_is_refused(mangle: Any, now: int, message: str) -> None:
    value = mangle(oidc.seal_flow(a_flow(), KEY))
    with pytest.raises(Unauthorized, match=message):
        oidc.open_flow(value, KEY, now=now)


def test_a_flow_sealed_under_another_key_is_refused() -> None:
    with pytest.raises(Unauthorized, match="tampered"):
        oidc.open_flow(oidc.seal_flow(a_flow(), b"other" * 8), KEY, now=1_000_100)


# -- authorization URL ---------------------------------------------------------------------


def test_the_authorization_url_carries_state_nonce_and_an_s256_challenge(
    idp: FakeIdP, provider: oidc.Provider
) -> None:
    url, flow = oidc.begin(config(idp), provider, "http://127.0.0.1:9/cb", "/x")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{idp.issuer}/authorize"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    digest = hashlib.sha256(flow.verifier.encode()).digest()
    assert q["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert q["code_challenge_method"] == "S256"
    assert (q["state"], q["nonce"]) == (flow.state, flow.nonce)
    assert q["client_id"] == idp.client_id and q["response_type"] == "code"
    assert q["redirect_uri"] == "http://127.0.0.1:9/cb"
    assert 43 <= len(flow.verifier) <= 128
    _, other = oidc.begin(config(idp), provider, "http://127.0.0.1:9/cb", "/x")
    assert len({flow.state, flow.nonce, flow.verifier, other.state, other.nonce}) == 5


# -- ID tokens -----------------------------------------------------------------------------


def test_a_valid_rs256_token_yields_its_claims(idp: FakeIdP, provider: oidc.Provider) -> None:
    token = idp.sign(claims(idp, email="a@example.test"))
    got = oidc.validate_id_token(config(idp), provider, token, NONCE)
    assert got["sub"] == "subject-1" and got["email"] == "a@example.test"


def test_a_token_without_kid_uses_the_only_key_of_its_type(
    idp: FakeIdP, provider: oidc.Provider
) -> None:
    token = jwt.encode({"alg": "RS256"}, claims(idp), idp.rsa)
    assert oidc.validate_id_token(config(idp), provider, token, NONCE)["sub"] == "subject-1"


def test_a_rotated_key_is_fetched_once_its_kid_shows_up(idp: FakeIdP) -> None:
    provider = oidc.Provider(idp.issuer, jwks_min_refresh_s=0)
    cfg = config(idp)
    oidc.validate_id_token(cfg, provider, idp.sign(claims(idp)), NONCE)  # JWKS cached
    idp.rotate_key("rsa-2")
    idp.sign_with = "kid:rsa-2"
    got = oidc.validate_id_token(cfg, provider, idp.sign(claims(idp)), NONCE)
    assert got["sub"] == "subject-1"


def test_unknown_kids_do_not_refetch_the_jwks_more_than_once_a_minute(idp: FakeIdP) -> None:
    provider = oidc.Provider(idp.issuer)
    cfg = config(idp)
    oidc.validate_id_token(cfg, provider, idp.sign(claims(idp)), NONCE)
    idp.rotate_key("rsa-3")
    idp.sign_with = "kid:rsa-3"
    with pytest.raises(Unauthorized, match="does not publish"):
        oidc.validate_id_token(cfg, provider, idp.sign(claims(idp)), NONCE)


@pytest.mark.parametrize("sign_with", ["none", "hs256", "foreign"])
def test_unsafe_or_forged_signatures_are_refused(
    idp: FakeIdP, provider: oidc.Provider, sign_with: str
) -> None:
    idp.sign_with = sign_with
    with pytest.raises(Unauthorized, match="not validly signed"):
        oidc.validate_id_token(config(idp), provider, idp.sign(claims(idp)), NONCE)


NOW = 2_000_000_000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iss": "https://evil.example"}, "issued by"),
        ({"aud": "someone-else"}, "another client"),
        ({"aud": ["someone-else", "other"]}, "another client"),
        ({"aud": ["client", "other"]}, "azp"),
        ({"aud": ["client", "other"], "azp": "other"}, "azp"),
        ({"exp": NOW - oidc.CLOCK_SKEW_S - 1}, "expired"),
        ({"iat": NOW + oidc.CLOCK_SKEW_S + 1}, "future"),
        ({"exp": None}, "lacks exp or iat"),
        ({"nonce": "other"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"sub": ""}, "subject"),
        ({"sub": 42}, "subject"),
    ],
)
def test_claims_are_checked(changes: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "iss": "https://id.example",
        "aud": "client",
        "sub": "s",
        "iat": NOW,
        "exp": NOW + 300,
        "nonce": NONCE,
    }
    values = {k: v for k, v in {**base, **changes}.items() if v is not None}
    with pytest.raises(Unauthorized, match=message):
        oidc.check_claims(
            values, issuer="https://id.example", client_id="client", nonce=NONCE, now=NOW
        )


def test_good_claims_pass_including_skew_and_multiple_audiences() -> None:
    values = {
        "iss": "https://id.example",
        "aud": ["client", "other"],
        "azp": "client",
        "sub": "s",
        "iat": NOW + oidc.CLOCK_SKEW_S,
        "exp": NOW - oidc.CLOCK_SKEW_S + 1,
        "nonce": NONCE,
    }
    oidc.check_claims(values, issuer="https://id.example", client_id="client", nonce=NONCE, now=NOW)


# -- discovery -----------------------------------------------------------------------------


def test_discovery_is_read_and_checked(idp: FakeIdP, provider: oidc.Provider) -> None:
    meta = provider.metadata()
    assert meta.issuer == idp.issuer
    assert meta.token_endpoint == f"{idp.issuer}/token"
    assert meta.userinfo_endpoint == f"{idp.issuer}/userinfo"
    assert meta.token_auth_method == "client_secret_basic"


def test_a_discovery_document_for_another_issuer_is_refused() -> None:
    doc = {
        "issuer": "https://evil.example",
        "authorization_endpoint": "https://evil.example/a",
        "token_endpoint": "https://evil.example/t",
        "jwks_uri": "https://evil.example/k",
    }
    with pytest.raises(oidc.ProviderError, match="names issuer"):
        oidc.parse_metadata(doc, "https://id.example")
    with pytest.raises(oidc.ProviderError, match="lacks jwks_uri"):
        oidc.parse_metadata(
            {**doc, "issuer": "https://id.example", "jwks_uri": ""}, "https://id.example"
        )


def test_client_secret_post_is_used_when_basic_is_not_offered() -> None:
    doc = {
        "issuer": "https://id.example",
        "authorization_endpoint": "https://id.example/a",
        "token_endpoint": "https://id.example/t",
        "jwks_uri": "https://id.example/k",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
    }
    assert oidc.parse_metadata(doc, "https://id.example").token_auth_method == "client_secret_post"


def test_an_unreachable_provider_is_a_provider_error() -> None:
    provider = oidc.Provider(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(oidc.ProviderError, match="discovery document failed"):
        provider.metadata()


def test_jwks_without_signing_keys_is_refused() -> None:
    with pytest.raises(oidc.ProviderError, match="no RSA or EC signing key"):
        oidc.parse_jwks({"keys": [{"kty": "oct", "k": "abc"}, {"kty": "RSA", "use": "enc"}]})


# -- user names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("alice", "alice"),
        ("Alice.Smith", "alice.smith"),
        ("alice@example.org", "alice"),
        ("Émile Zola", "emile-zola"),
        ("42-bob", "bob"),
        ("__x", "user-x"),
        ("用户", "user"),
        ("a" * 80, "a" * 63),
        ("ab---", "ab"),
    ],
)
def test_names_are_sanitised_to_the_user_name_pattern(raw: str, name: str) -> None:
    got = oidc.sanitise_name(raw)
    assert got == name
    assert oidc.USER_NAME.match(got)


def test_groups_claim_as_list_or_string() -> None:
    assert oidc.in_group({"groups": ["a", "admins"]}, "admins")
    assert oidc.in_group({"groups": "admins"}, "admins")
    assert not oidc.in_group({"groups": ["admins-not"]}, "admins")
    assert not oidc.in_group({}, "admins")
