"""A FAKE OpenID Connect provider for tests: a small FastAPI app on 127.0.0.1 in a thread.

It does just enough of the real thing for NovaCron's single sign-on to be tested end to
end: discovery, ``/authorize`` (auto-approves the configured test user and redirects
with a code), ``/token`` (client authentication, one-use codes, redirect URI and PKCE
S256 checked; an ID token signed RS256 or ES256 with a key from its JWKS), ``/jwks`` and
``/userinfo``. Tests misbehave it on purpose through ``tamper`` (claims overridden, or
dropped with ``None``), ``sign_with`` (a key it does not publish, HS256 with the client
secret, ``none``) and ``deny`` (the user refuses).

Never use it for anything but tests: it approves whoever asks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from novacron.testing.cluster import free_port, wait_until


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any]) -> str:
    """An ``alg: none`` JWT (which nobody should accept)."""
    head = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{head}.{b64url(json.dumps(claims).encode())}."


@dataclass
class FakeIdP:
    client_id: str = "novacron-test-client"
    client_secret: str = field(default_factory=lambda: "fake-idp-" + secrets.token_urlsafe(24))
    user: dict[str, Any] = field(default_factory=dict)
    """Claims of the user ``/authorize`` approves (``sub`` and profile claims)."""
    userinfo_only: tuple[str, ...] = ()
    """Claims left out of the ID token, served by ``/userinfo`` only."""
    tamper: dict[str, Any] = field(default_factory=dict)
    """Overrides applied to every ID token claim set; a ``None`` value drops the claim."""
    sign_with: str = "rs256"
    """``rs256``, ``es256``, ``foreign`` (an RSA key not in the JWKS, same kid),
    ``foreign-kid`` (one with an unknown kid), ``hs256`` (client secret) or ``none``."""
    deny: str | None = None
    """When set, ``/authorize`` answers the client with ``error=<deny>``."""
    port: int = field(default_factory=free_port)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})
        self.ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"})
        self.extra_keys: list[RSAKey] = []
        # Keys it never publishes: one under a published kid, one under an unknown kid.
        self.foreign = {
            kid: RSAKey.generate_key(2048, parameters={"kid": kid})
            for kid in ("rsa-1", "rsa-unknown")
        }
        self._codes: dict[str, dict[str, str]] = {}
        self._access: dict[str, dict[str, Any]] = {}
        self.app = self._build_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self, **user: Any) -> None:
        """Back to a well-behaved provider approving ``user``."""
        self.user = dict(user)
        self.userinfo_only, self.tamper, self.sign_with, self.deny = (), {}, "rs256", None
        self.extra_keys.clear()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeIdP:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_until(lambda: self._server is not None and self._server.started, 20, what="idp")
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)

    # -- tokens ------------------------------------------------------------------------------

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": nonce,
        }
        claims.update({k: v for k, v in self.user.items() if k not in self.userinfo_only})
        for name, value in self.tamper.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return self.sign(claims)

    def sign(self, claims: dict[str, Any]) -> str:
        if self.sign_with == "none":
            return unsigned_token(claims)
        if self.sign_with == "hs256":
            secret = OctKey.import_key(self.client_secret.encode())
            return jwt.encode({"alg": "HS256"}, claims, secret)
        if self.sign_with == "es256":
            return jwt.encode({"alg": "ES256", "kid": "ec-1"}, claims, self.ec)
        if self.sign_with in ("foreign", "foreign-kid"):
            kid = "rsa-1" if self.sign_with == "foreign" else "rsa-unknown"
            return jwt.encode({"alg": "RS256", "kid": kid}, claims, self.foreign[kid])
        if self.sign_with.startswith("kid:"):  # a key from extra_keys (rotation)
            kid = self.sign_with.removeprefix("kid:")
            key = next(k for k in self.extra_keys if k.kid == kid)
            return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)
        return jwt.encode({"alg": "RS256", "kid": "rsa-1"}, claims, self.rsa)

    def rotate_key(self, kid: str) -> None:
        """Publish another RSA key; ``sign_with = f"kid:{kid}"`` then uses it."""
        self.extra_keys.append(RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"}))

    # -- the app -----------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        idp = self

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": idp.issuer,
                "authorization_endpoint": f"{idp.issuer}/authorize",
                "token_endpoint": f"{idp.issuer}/token",
                "jwks_uri": f"{idp.issuer}/jwks",
                "userinfo_endpoint": f"{idp.issuer}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            keys = [idp.rsa, idp.ec, *idp.extra_keys]
            return {"keys": [k.as_dict(private=False) for k in keys]}

        @app.get("/authorize")
        def authorize(request: Request) -> Response:
            q = dict(request.query_params)
            idp.authorize_requests.append(q)
            problems = []
            if q.get("response_type") != "code":
                problems.append("response_type must be code")
            if q.get("client_id") != idp.client_id:
                problems.append("unknown client_id")
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                problems.append("PKCE S256 required")
            if "openid" not in q.get("scope", "").split():
                problems.append("scope must include openid")
            if not q.get("redirect_uri") or not q.get("state") or not q.get("nonce"):
                problems.append("redirect_uri, state and nonce required")
            if problems:
                return JSONResponse({"error": "invalid_request", "problems": problems}, 400)
            if idp.deny:
                back = {"error": idp.deny, "error_description": "the user said no", **_st(q)}
                return RedirectResponse(f"{q['redirect_uri']}?{urlencode(back)}", 302)
            code = secrets.token_urlsafe(16)
            idp._codes[code] = {
                "redirect_uri": q["redirect_uri"],
                "nonce": q["nonce"],
                "challenge": q["code_challenge"],
            }
            back = {"code": code, **_st(q)}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode(back)}", 302)

        @app.post("/token")
        def token(
            grant_type: str = Form(""),
            code: str = Form(""),
            redirect_uri: str = Form(""),
            code_verifier: str = Form(""),
            client_id: str = Form(""),
            client_secret: str = Form(""),
            authorization: str = Header(""),
        ) -> Response:
            idp.token_requests.append(
                {"grant_type": grant_type, "code_verifier": code_verifier, "auth": authorization}
            )
            if authorization.startswith("Basic "):
                raw = base64.b64decode(authorization.removeprefix("Basic ")).decode()
                client_id, _, client_secret = raw.partition(":")
            if client_id != idp.client_id or client_secret != idp.client_secret:
                return JSONResponse({"error": "invalid_client"}, 401)
            if grant_type != "authorization_code":
                return JSONResponse({"error": "unsupported_grant_type"}, 400)
            grant = idp._codes.pop(code, None)  # one use only
            if grant is None or grant["redirect_uri"] != redirect_uri:
                return _invalid_grant("unknown, used or mismatched code")
            challenge = b64url(hashlib.sha256(code_verifier.encode()).digest())
            if challenge != grant["challenge"]:
                return _invalid_grant("PKCE verification failed")
            access = secrets.token_urlsafe(16)
            idp._access[access] = dict(idp.user)
            body = {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": idp.id_token(grant["nonce"]),
            }
            return JSONResponse(body, headers={"Cache-Control": "no-store"})

        @app.get("/userinfo")
        def userinfo(authorization: str = Header("")) -> Response:
            claims = idp._access.get(authorization.removeprefix("Bearer "))
            if claims is None:
                return JSONResponse({"error": "invalid_token"}, 401)
            return JSONResponse(claims)

        return app


def _st(q: dict[str, str]) -> dict[str, str]:
    return {"state": q["state"]}


def _invalid_grant(why: str) -> Response:
    return JSONResponse({"error": "invalid_grant", "error_description": why}, 400)
