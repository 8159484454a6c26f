"""The JSON API under /api/v1; its OpenAPI document is generated from the handlers' schemas."""

from __future__ import annotations

import copy
import functools
import json as json_module
import math
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Request, Response, current_app, jsonify, render_template
from pydantic import ValidationError
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_model_key
from werkzeug.exceptions import UnsupportedMediaType

from recordings_service.errors import Invalid
from recordings_service.json_keys import DuplicateKey, unique_keys
from web.access import public
from web.api.file_answers import FileAnswer
from web.api.guard_answers import with_guard_answers
from web.api.validation import refuse_moments_out_of_range
from web.json_text import json_text

NOT_A_JSON_OBJECT = "the request body must be a JSON object"


class EndpointNamedPlugin(FlaskPlugin):
    """Spectree's Flask plugin with Flask's endpoint name ("recordings_api.get_recording") as the operationId.

    Spectree's own id is built from the path, so it changes with every route edit; the endpoint name is unique
    in the app and survives path changes.
    """

    def get_func_operation_id(self, func: Callable[..., Any], path: str, method: str) -> str:
        endpoints = {view: endpoint for endpoint, view in current_app.view_functions.items()}
        return endpoints[func]

    def validate_response(
        self, resp: Any, resp_model: Any, skip_validation: bool, force_resp_serialize: bool
    ) -> tuple[Any, Any]:
        # A file goes out as it is read: spectree would read all of it into memory to check it as JSON.
        if isinstance(resp_model, FileAnswer) and isinstance(resp, Response):
            return resp, None
        validated: tuple[Any, Any] = super().validate_response(resp, resp_model, skip_validation, force_resp_serialize)
        return validated

    def request_validation(  # noqa: PLR0917 — spectree's signature
        self, request: Request, query: Any, json: Any, form: Any, headers: Any, cookies: Any
    ) -> None:
        # Spectree leaves the JSON body of a form-encoded request unvalidated and hands the handler None.
        expects_json_only = json is not None and form is None and request.method not in ("GET", "DELETE")
        if expects_json_only and request.mimetype in self.FORM_MIMETYPE:
            raise UnsupportedMediaType("send the request body as application/json")
        body = request.get_data(cache=True) if expects_json_only else b""
        if not body:
            super().request_validation(request, query, json, form, headers, cookies)
        else:
            self._validate_body(request, body, query, json, form, headers, cookies)
        refuse_moments_out_of_range(request.context.query, request.context.json)

    def _validate_body(  # noqa: PLR0917 — spectree's validation's arguments
        self, request: Request, body: bytes, query: Any, json: Any, form: Any, headers: Any, cookies: Any
    ) -> None:
        # Spectree reads a body it cannot parse as `{}`; a body that was sent must be what the handler gets.
        if not request.is_json:
            raise UnsupportedMediaType("send the request body as application/json")
        body = json_text(body, charset=request.mimetype_params.get("charset"))
        if not isinstance(_json_object(body), dict):
            raise Invalid("body", NOT_A_JSON_OBJECT, code="invalid_json")
        super().request_validation(request, query, None, form, headers, cookies)
        # Spectree validates the parsed body in Python mode, where "yes" is a boolean, "10" an integer and true
        # a number; in strict JSON mode each field takes its JSON type only (dates and choices still as strings).
        try:
            validated = json.model_validate_json(body, strict=True)
        except ValidationError as exc:
            # Pydantic's parser refuses what Python's accepted (a lone surrogate escape, "\ud800"); its error holds
            # the body as bytes, which spectree's error response cannot serialise (a 500).
            unparsed = [error for error in exc.errors(include_url=False) if error["type"] == "json_invalid"]
            if unparsed:
                why = unparsed[0]["msg"].removeprefix("Invalid JSON: ")
                raise Invalid("body", f"the request body is not valid JSON: {why}", code="invalid_json") from None
            raise
        request.context = request.context._replace(json=validated)


def _json_object(body: bytes) -> Any:
    """The parsed body, or None when it is not JSON: NaN, Infinity and numbers too large for a float are not
    (RFC 8259), and neither is a body nested too deep for the parser. A key given twice is refused (`json_keys`)."""
    try:
        return json_module.loads(body, parse_constant=_not_json, parse_float=_finite, object_pairs_hook=unique_keys)
    except DuplicateKey as exc:
        raise exc.refusal() from None
    except (ValueError, RecursionError):
        return None


def _not_json(token: str) -> float:
    raise ValueError(f"{token} is not a JSON number")


def _finite(token: str) -> float:
    number = float(token)
    if not math.isfinite(number):
        raise ValueError(f"{token} is too large a number")
    return number


api_spec = SpecTree(
    "flask",
    backend=EndpointNamedPlugin,
    title="Callvault API",
    version="v1",
    path="api/v1/docs",
    annotations=True,
    mode="strict",
    # The interactive docs are our own page (api_docs below), so spectree serves none.
    page_templates={},
    # Every operation takes an API token (`callvault tokens create`) as a bearer token; a signed-in browser's session
    # works as well, with its CSRF token on writes. Declared, a generated client and the docs' Authorize send it.
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(
                type=SecureType.HTTP, scheme="bearer", description="an API token, `Authorization: Bearer cvt_…`"
            ),
        )
    ],
    security={"bearer": []},
    # Spectree keys each schema by the top-level model that used it and adds a hash of the module, so one
    # model appeared once per response it is part of; a class name is one schema (names are unique: tested).
    naming_strategy=lambda model: get_model_key(model).rpartition(".")[0],
    nested_naming_strategy=lambda parent, child: child,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    return jsonify(served_document())


@functools.cache
def served_document() -> dict[str, Any]:
    """The document as served, made once (spectree, too, makes its own once, when the routes are all there)."""
    return with_guard_answers(with_common_answers(api_spec.spec), current_app.view_functions)


# What any operation may answer besides its own statuses: integrators generate clients and retry logic from the
# document, and a telephony client must know that 503 means "send it again after Retry-After".
COMMON_ANSWERS = {
    "401": "no valid API token (missing, unknown, revoked or expired) nor a signed-in session",
    "503": "the database or the object store is unavailable for the moment: send the request again after the "
    "seconds the `Retry-After` header gives",
}


def with_common_answers(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` with 401 and 503 declared on every operation that does not declare them itself (as `ErrorBody`)."""
    document = copy.deepcopy(spec)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    retry = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    for operations in document["paths"].values():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            for status, description in COMMON_ANSWERS.items():
                answer = {"description": description, "content": error}
                answers.setdefault(status, answer | ({"headers": retry} if status == "503" else {}))
    return document


@bp.get("/docs/swagger/")
@public
def api_docs() -> str:
    # Swagger UI inside the app's own layout, from the vendored copy and a static initialiser (the CSP
    # allows no inline script and no CDN).
    return render_template("api_docs.html")
