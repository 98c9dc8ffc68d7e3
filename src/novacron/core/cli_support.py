"""What every slice's CLI shares: the API client, one-line errors, output, waiting.

The CLI is a thin client of the REST API. A command resolves its ``CLIContext``
(set by the root callback in ``novacron.cli``), opens an ``ApiClient``, calls the
API and renders the answer as a table or as the raw JSON the server returned.

Failures reach the user as exactly one line on stderr (``error: ...``) and a
non-zero exit code, never a traceback:

    NovaCronError  (problem+json from the server, rebuilt by ``from_problem``)
    httpx.HTTPError (transport trouble the client did not translate)
        → ``handle_errors`` → ``fail`` → ``error: <message>``, exit 1
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar
from urllib.parse import quote

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from novacron.core.config import default_data_dir
from novacron.core.errors import Invalid, NovaCronError, from_problem

P = ParamSpec("P")
R = TypeVar("R")

API_PREFIX = "/api/v1"
TOKEN_FILE = "admin-token"
TERMINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})
POLL_INTERVAL_S = 0.3
_LOCATION_ROOTS = frozenset({"body", "query", "path", "header", "cookie"})


class OperationFailed(NovaCronError):
    """An operation the CLI waited for ended ``failed`` or ``cancelled``."""

    def __init__(self, operation: dict[str, Any]) -> None:
        kind = operation.get("kind") or "operation"
        if operation.get("state") == "cancelled":
            message = f"{kind} was cancelled"
        else:
            message = f"{kind} failed: {operation.get('error') or 'no error recorded'}"
        super().__init__(message)
        self.operation = operation


# -- Context and token ------------------------------------------------------------------------


def data_dir() -> Path:
    """``$NOVACRON_DATA_DIR``, else the settings' default data dir."""
    env = os.environ.get("NOVACRON_DATA_DIR")
    return Path(env).expanduser() if env else default_data_dir()


def token_path() -> Path:
    return data_dir() / TOKEN_FILE


def resolve_token(explicit: str | None) -> str:
    """The explicit token (``--token`` or ``$NOVACRON_TOKEN``), else the admin-token file."""
    if explicit and explicit.strip():
        return explicit.strip()
    path = token_path()
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise NovaCronError(f"cannot read API token from {path}: {exc.strerror}") from exc
    if not token:
        raise NovaCronError(
            f"no API token: set NOVACRON_TOKEN or pass --token (novacron up writes one to {path})"
        )
    return token


@dataclass
class CLIContext:
    url: str
    token: str | None
    output: str  # "table" | "json"

    @property
    def json(self) -> bool:
        return self.output == "json"

    def client(self) -> ApiClient:
        return ApiClient(self.url, resolve_token(self.token))


def get_context(obj: Any) -> CLIContext:
    """The ``CLIContext`` from a ``typer.Context`` (or its ``obj``); defaults if absent."""
    found = obj.find_object(CLIContext) if hasattr(obj, "find_object") else obj
    if isinstance(found, CLIContext):
        return found
    return CLIContext(
        url=os.environ.get("NOVACRON_URL", "http://127.0.0.1:8080"),
        token=os.environ.get("NOVACRON_TOKEN"),
        output="table",
    )


# -- API client -------------------------------------------------------------------------------


def seg(value: str) -> str:
    """One path segment, quoted (names and ids never contain '/', user input might)."""
    return quote(str(value), safe="")


class ApiClient:
    """Synchronous client of ``<url>/api/v1``; raises ``NovaCronError`` for every failure."""

    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        try:
            self._http = httpx.Client(
                base_url=f"{self.url}{API_PREFIX}",
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=timeout,
            )
        except httpx.InvalidURL as exc:
            raise NovaCronError(f"invalid server URL {url!r}: {exc}") from exc

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=json, params=params)

    def put(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PUT", path, json=json, params=params)

    def delete(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("DELETE", path, json=json, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, json=json, params=query)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise NovaCronError(
                f"cannot reach NovaCron at {self.url}: is the server running?"
            ) from exc
        except httpx.TimeoutException as exc:
            raise NovaCronError(f"NovaCron at {self.url} did not answer in time") from exc
        except httpx.UnsupportedProtocol as exc:
            raise NovaCronError(f"invalid server URL {self.url!r}: {exc}") from exc
        except httpx.TransportError as exc:
            raise NovaCronError(
                f"lost connection to NovaCron at {self.url}: {exc or type(exc).__name__}"
            ) from exc
        return self._decode(response)

    def _decode(self, response: httpx.Response) -> Any:
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise NovaCronError(
                    f"unexpected non-JSON answer from {response.request.url}"
                ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and ("type" in body or "detail" in body or "title" in body):
            raise from_problem(body)
        text = " ".join(response.text.split())[:200]
        reason = response.reason_phrase or "error"
        raise NovaCronError(
            f"server answered {response.status_code} {reason}" + (f": {text}" if text else "")
        )


# -- Errors -----------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def format_loc(loc: Sequence[Any] | Any) -> str:
    """``["body", "labels", "k"]`` → ``labels.k``; ``["body", "traits", 0]`` → ``traits[0]``."""
    if not isinstance(loc, list | tuple):
        return str(loc)
    parts = list(loc)
    if len(parts) > 1 and parts[0] in _LOCATION_ROOTS:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def format_error(exc: BaseException) -> str:
    """One line for a user.

    Bad input reads ``invalid request: vcpus: Input should be …; name: …`` (every field
    path); any other error is its detail, e.g. ``cannot pause a VM that is stopped …``."""
    if isinstance(exc, NovaCronError):
        detail = _one_line(exc.detail)
        fields = []
        for err in exc.errors or []:
            if not isinstance(err, dict):
                fields.append(_one_line(str(err)))
                continue
            msg = _one_line(str(err.get("msg") or err.get("message") or "invalid"))
            where = format_loc(err.get("loc") or err.get("field") or [])
            fields.append(f"{where}: {msg}" if where else msg)
        if not fields:
            return detail or type(exc).__name__
        parts = ["invalid request"] if isinstance(exc, Invalid) else []
        # The server's detail often just lists the fields again: say it once.
        if detail and detail.lower() not in parts and not all(f in detail for f in fields):
            parts.append(detail)
        parts.append("; ".join(fields))
        return ": ".join(parts)
    if isinstance(exc, httpx.HTTPError):
        return _one_line(f"HTTP error: {exc}") if str(exc) else type(exc).__name__
    return _one_line(str(exc)) or type(exc).__name__


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: <message>`` as one line on stderr and exit with ``code`` (non-zero)."""
    sys.stderr.write(f"error: {_one_line(message)}\n")
    sys.stderr.flush()
    raise SystemExit(code or 1)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command: NovaCron and HTTP failures become one ``error:`` line and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (NovaCronError, httpx.HTTPError) as exc:
            fail(format_error(exc))

    return wrapper


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """Context-manager twin of ``handle_errors``: ``with errors_to_exit(): ...``."""
    try:
        yield
    except (NovaCronError, httpx.HTTPError) as exc:
        fail(format_error(exc))


# -- Output -----------------------------------------------------------------------------------

Column = tuple[str, str | Callable[[dict[str, Any]], Any]]
"""A table column: header, and the item's key or a function of the item."""


def _console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None
    if not stream.isatty() and not os.environ.get("COLUMNS"):
        width = 200  # piped output: don't squeeze ids into an 80-column box
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list) for v in value):
            return ", ".join(str(v) for v in value) or "-"
        return json.dumps(value)
    return str(value)


def _get(item: dict[str, Any], getter: str | Callable[[dict[str, Any]], Any]) -> str:
    value = getter(item) if callable(getter) else item.get(getter)
    return _cell(value)


def render(
    ctx: CLIContext,
    data: Any,
    columns: Sequence[Column] | None = None,
    *,
    empty: str = "nothing to show",
) -> None:
    """JSON mode: exactly what the API returned. Table mode: a table of a page or list of
    items with ``columns``, or a key/value table of one object (all its fields)."""
    if ctx.json:
        print_json(data)
        return
    console = _console()
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        items: list[Any] = data["items"]
        _render_table(console, items, columns, empty)
        total, offset = data.get("total"), int(data.get("offset") or 0)
        if isinstance(total, int) and total > len(items):
            first = offset + 1 if items else offset
            console.print(
                f"showing {first}-{offset + len(items)} of {total} (use --limit/--offset)"
            )
    elif isinstance(data, list):
        _render_table(console, data, columns, empty)
    elif isinstance(data, dict):
        render_object(console, data)
    elif data is not None:
        console.print(str(data), markup=False)


def _render_table(
    console: Console, items: list[Any], columns: Sequence[Column] | None, empty: str
) -> None:
    if not items:
        console.print(empty, markup=False)
        return
    if columns is None:
        columns = [(key, key) for key in items[0]] if isinstance(items[0], dict) else []
    table = Table(box=None, header_style="bold", pad_edge=False)
    for header, _ in columns:
        table.add_column(header.upper(), overflow="fold")
    for item in items:
        table.add_row(*(_get(item, getter) for _, getter in columns))
    console.print(table)


def render_object(console: Console, data: dict[str, Any]) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        if key == "steps" and isinstance(value, list):
            shown = ", ".join(
                f"{_step_name(s)} ({s.get('state', '?')})" for s in value if isinstance(s, dict)
            )
            table.add_row(key, shown or "-")
        elif key.endswith("_at") and isinstance(value, str):
            table.add_row(key, fmt_time(value))
        else:
            table.add_row(key, _cell(value))
    console.print(table)


def message(ctx: CLIContext, text: str) -> None:
    """A human confirmation line (table mode only; JSON mode stays machine-readable)."""
    if not ctx.json:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


# -- Formatting helpers -----------------------------------------------------------------------


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def fmt_time(value: str | None) -> str:
    """``2024-05-01T12:00:03.123Z`` → ``2024-05-01 12:00:03`` (UTC)."""
    parsed = parse_time(value)
    if parsed is None:
        return value or "-"
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_age(value: str | None, now: datetime | None = None) -> str:
    """How long ago: ``4s ago``, ``3m ago``, ``2h ago``, ``5d ago``."""
    parsed = parse_time(value)
    if parsed is None:
        return value or "never"
    seconds = max(0, int(((now or datetime.now(UTC)) - parsed).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def fmt_mib(mib: int | float | None) -> str:
    if mib is None:
        return "-"
    if mib >= 1024 and mib % 1024 == 0:
        return f"{int(mib) // 1024} GiB"
    if mib >= 1024:
        return f"{mib / 1024:.1f} GiB"
    return f"{int(mib)} MiB"


def parse_key_values(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` → ``{"a": "1", "b": "x=y"}``; raises ``NovaCronError`` on bad syntax."""
    out: dict[str, str] = {}
    for raw in values or []:
        key, sep, value = raw.partition("=")
        key = key.strip()
        if not sep or not key:
            raise NovaCronError(f"invalid {option} {raw!r}: expected KEY=VALUE")
        out[key] = value.strip()
    return out


# -- Operations -------------------------------------------------------------------------------


def _step_name(step: Any) -> str:
    if isinstance(step, dict):
        for key in ("name", "step", "title"):
            if step.get(key):
                return str(step[key])
    return str(step)


def current_step(operation: dict[str, Any]) -> str:
    """The name of the step being worked on, else the operation's kind."""
    steps = [s for s in operation.get("steps") or [] if isinstance(s, dict)]
    for step in steps:
        if step.get("state") == "running":
            return _step_name(step)
    for step in steps:
        if step.get("state") in (None, "pending"):
            return _step_name(step)
    if steps:
        return _step_name(steps[-1])
    return str(operation.get("kind") or "operation")


def _poll(client: ApiClient, op_id: str, interval: float) -> Iterator[dict[str, Any]]:
    while True:
        operation: dict[str, Any] = client.get(f"/operations/{seg(op_id)}")
        yield operation
        if operation.get("state") in TERMINAL_STATES:
            return
        time.sleep(interval)


def wait_operation(
    client: ApiClient,
    op_id: str,
    show_progress: bool,
    *,
    interval: float = POLL_INTERVAL_S,
    raise_on_failure: bool = True,
) -> dict[str, Any]:
    """Poll ``GET /operations/{id}`` until it ends; a progress bar on stderr when asked and
    stderr is a terminal. Raises ``OperationFailed`` if it failed or was cancelled."""
    final: dict[str, Any] = {}
    console = _console(stderr=True)
    try:
        if show_progress and console.is_terminal:
            progress = Progress(
                TextColumn("[bold]{task.fields[kind]}[/]"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            with progress:
                task = progress.add_task("waiting", total=100, kind="operation")
                for operation in _poll(client, op_id, interval):
                    final = operation
                    progress.update(
                        task,
                        completed=int(operation.get("progress") or 0),
                        description=current_step(operation),
                        kind=str(operation.get("kind") or "operation"),
                    )
                if final.get("state") == "succeeded":
                    progress.update(task, completed=100, description="done")
                else:
                    progress.update(task, description=str(final.get("state")))
        else:
            for operation in _poll(client, op_id, interval):
                final = operation
    except KeyboardInterrupt:
        fail(
            f"stopped waiting; operation {op_id} goes on (novacron op wait {op_id})",
            130,
        )
    if raise_on_failure and final.get("state") in ("failed", "cancelled"):
        raise OperationFailed(final)
    return final
