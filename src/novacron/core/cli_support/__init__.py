"""What every slice's CLI shares: the API client, one-line errors, output, waiting.

The CLI is a thin client of the REST API. A command resolves its ``CLIContext``
(set by the root callback in ``novacron.cli``), opens an ``ApiClient``, calls the
API and renders the answer as a table or as the raw JSON the server returned.

Failures reach the user as exactly one line on stderr (``error: ...``) and a
non-zero exit code, never a traceback:

    NovaCronError  (problem+json from the server, rebuilt by ``from_problem``)
    httpx.HTTPError (transport trouble the client did not translate)
        → ``handle_errors`` → ``fail`` → ``error: <message>``, exit 1
    usage errors (bad option values, unknown commands)
        → ``run_app`` (the console script) → ``error: <message>``, exit 2

Where things live:

    context.py     CLIContext, get_context, data dir, API-token and project resolution
    credentials.py the token ``novacron login`` stores ($XDG_CONFIG_HOME/novacron/token)
    client.py      ApiClient (HTTP and problem+json → NovaCronError), seg
    errors.py      format_error, fail, handle_errors, errors_to_exit
    entry.py       run_app (the console script: usage errors, Ctrl-C, last resort)
    output.py      render (tables / JSON), render_object, print_json, message
    formatting.py  times, sizes, KEY=VALUE options, step names
    waiting.py     wait_operation with its progress bar, current_step, OperationFailed
"""

from novacron.core.cli_support.client import (
    API_PREFIX,
    PROJECT_HEADER,
    ApiClient,
    problem_slug,
    seg,
)
from novacron.core.cli_support.context import (
    TOKEN_FILE,
    CLIContext,
    ResolvedToken,
    data_dir,
    find_token,
    get_context,
    resolve_token,
    token_path,
)
from novacron.core.cli_support.credentials import (
    LoginInfo,
    config_dir,
    forget_login,
    login_token_path,
    read_login_info,
    read_login_token,
    save_login,
)
from novacron.core.cli_support.entry import format_usage_error, run_app
from novacron.core.cli_support.errors import (
    errors_to_exit,
    fail,
    format_error,
    format_loc,
    handle_errors,
)
from novacron.core.cli_support.formatting import (
    fmt_age,
    fmt_mib,
    fmt_time,
    parse_key_values,
    parse_time,
)
from novacron.core.cli_support.output import Column, message, print_json, render, render_object
from novacron.core.cli_support.waiting import (
    POLL_INTERVAL_S,
    TERMINAL_STATES,
    OperationFailed,
    current_step,
    wait_operation,
)

__all__ = [
    "API_PREFIX",
    "POLL_INTERVAL_S",
    "PROJECT_HEADER",
    "TERMINAL_STATES",
    "TOKEN_FILE",
    "ApiClient",
    "CLIContext",
    "Column",
    "LoginInfo",
    "OperationFailed",
    "ResolvedToken",
    "config_dir",
    "current_step",
    "data_dir",
    "errors_to_exit",
    "fail",
    "find_token",
    "fmt_age",
    "fmt_mib",
    "fmt_time",
    "forget_login",
    "format_error",
    "format_loc",
    "format_usage_error",
    "get_context",
    "handle_errors",
    "login_token_path",
    "message",
    "parse_key_values",
    "parse_time",
    "print_json",
    "problem_slug",
    "read_login_info",
    "read_login_token",
    "render",
    "render_object",
    "resolve_token",
    "run_app",
    "save_login",
    "seg",
    "token_path",
    "wait_operation",
]
