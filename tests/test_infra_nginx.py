"""The nginx configuration shipped in infra/: its access log never writes an enrolment link's one-time token.

nginx is not installed where the tests run, so the file is read by a small parser of nginx's syntax (directives,
blocks, quoted strings, comments) and the log format's `map` is evaluated here as nginx evaluates it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

from web.ui.auth import ENROL_PATH

CONF = Path(__file__).resolve().parent.parent / "infra" / "nginx" / "callvault.conf"
TOKEN = re.compile(r"""#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)""")
# Variables that hold the request's path or its query: none may be written to the log as it stands.
RAW_REQUEST = {"$request", "$request_uri", "$uri", "$document_uri", "$args", "$query_string", "$http_referer"}


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None


def parse(text: str) -> list[Directive]:
    """The directives of an nginx configuration, blocks nested; comments dropped, quotes removed."""
    top: list[Directive] = []
    stack = [top]
    words: list[str] = []
    for match in TOKEN.finditer(text):
        double, single, punctuation, bare = match.groups()
        if match.group().startswith("#"):
            continue
        if punctuation == ";":
            stack[-1].append(Directive(words[0], words[1:]))
            words = []
        elif punctuation == "{":
            directive = Directive(words[0], words[1:], block=[])
            stack[-1].append(directive)
            stack.append(directive.block)  # type: ignore[arg-type]
            words = []
        elif punctuation == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(next(part for part in (double, single, bare) if part is not None))
    assert len(stack) == 1 and not words, "unbalanced braces"
    return top


def walk(directives: list[Directive]) -> list[Directive]:
    found = []
    for directive in directives:
        found.append(directive)
        found.extend(walk(directive.block or []))
    return found


def map_value(entries: list[Directive], source: str) -> str:
    """What an nginx `map` gives for `source`: an exact key first, then the regular expressions in order."""
    keys = {entry.name: entry.args[0] for entry in entries}
    if source in keys and not source.startswith("~"):
        return keys[source]
    for key, value in keys.items():
        if key.startswith("~"):
            pattern, flags = (key[2:], re.IGNORECASE) if key.startswith("~*") else (key[1:], 0)
            if re.search(pattern, source, flags):
                return value
    return keys["default"]


@pytest.fixture(scope="module")
def config() -> list[Directive]:
    return parse(CONF.read_text())


def logged_request(config: list[Directive], uri: str) -> str:
    """The access log line's format with the request's variables filled in as nginx would for path `uri`."""
    [log_format] = [each for each in config if each.name == "log_format" and each.args[0] == "callvault"]
    line = "".join(log_format.args[1:])
    variables = {"$uri": uri}
    for each in config:
        if each.name == "map":
            source, target = each.args
            assert source in variables, f"map on {source}: only the decoded path $uri is the logged one"
            value = map_value(each.block or [], variables[source])
            variables[target] = variables.get(value, value)
    used = set(re.findall(r"\$\w+", line))
    assert not used & RAW_REQUEST, f"the log format writes {used & RAW_REQUEST} unmasked"
    return re.sub(r"\$\w+", lambda name: variables.get(name.group(), ""), line)


@pytest.mark.parametrize("prefix", [ENROL_PATH, "/" + ENROL_PATH, ENROL_PATH.upper()])
def test_the_access_log_writes_no_enrolment_token(config: list[Directive], prefix: str) -> None:
    """Found by review: the log format wrote `$uri`, so every enrolment link's token stood in the access log."""
    token = secrets.token_urlsafe(32)
    line = logged_request(config, prefix + token)
    assert token not in line and "/enrol/[token]" in line


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/v1/customers/CRM-12345/custody", "/api/v1/customers/[ref]"),
        ("//API/v1/customers/team/CRM-12345/custody", "/api/v1/customers/[ref]"),
        ("/agents/team-b/agent-5", "/agents/[ref]"),
    ],
)
def test_the_access_log_writes_no_customer_or_agent_reference(config: list[Directive], path: str, logged: str) -> None:
    """Found by a security pass: the README says no log holds personal data, and a customer's custody lookup or an
    agent's page wrote the reference in its path to nginx's access log."""
    line = logged_request(config, path)
    assert "CRM-12345" not in line and "agent-5" not in line and f"{logged} " in line


def test_other_paths_are_logged_as_they_are(config: list[Directive]) -> None:
    assert "/calls/ " in logged_request(config, "/calls/")
    assert "/admin/users/01ABC/enrolment-link " in logged_request(config, "/admin/users/01ABC/enrolment-link")


def test_every_server_logs_in_the_masking_format(config: list[Directive]) -> None:
    """A server without its own access_log writes nginx's default `combined` format, request line and all (the
    plain-HTTP server did: a link typed as http:// logged its token)."""
    servers = [each for each in walk(config) if each.name == "server" and each.block is not None]
    assert len(servers) == 3
    for server in servers:
        logs = [each.args for each in walk(server.block or []) if each.name == "access_log"]
        assert logs and all(args == ["off"] or args[1:2] == ["callvault"] for args in logs), logs
    assert all(each.args[1:2] == ["callvault"] for each in config if each.name == "access_log")


def test_other_names_get_no_answer_and_the_app_is_given_the_host_with_its_port(config: list[Directive]) -> None:
    """Found by a deployment pass (nginx 1.22 running this file): any Host reached the app, whose redirects then
    pointed at it (`Host: evil.example` gave `Location: https://evil.example/calls/`); the Host passed on lost its
    port, so on a port other than 443 every form failed its CSRF check; the plain-HTTP server named nginx's version."""
    servers = [each.block or [] for each in walk(config) if each.name == "server" and each.block is not None]
    [catch_all] = [block for block in servers if any("default_server" in each.args for each in block)]
    assert {each.name for each in catch_all} >= {"ssl_reject_handshake", "return"}
    assert [each.args for each in catch_all if each.name == "return"] == [["444"]]
    assert not [each for each in catch_all if each.name == "server_name"]
    assert all(["off"] in [each.args for each in block if each.name == "server_tokens"] for block in servers)
    hosts = [each.args for each in walk(config) if each.name == "proxy_set_header" and each.args[0] == "Host"]
    assert hosts == [["Host", "$http_host"]]
