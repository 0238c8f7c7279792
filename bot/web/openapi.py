"""The OpenAPI 3.1 description of the HTTP API, served at /openapi.json.

Written by hand from DESIGN.md's API, and held to the handlers by tests/web/test_openapi.py:
schemathesis sends the requests it derives from this description to a real server and checks
every answer against it (status, content type, body schema), and no answer is a 5xx other than
the documented 503.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from aiohttp import web

_ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": _ERROR}}}
    if retry_after:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "string"}}
        }
    return response


_LOGIN_ERRORS = {
    "400": _error("Bad input: a missing field, an id that is not ASCII digits, a malformed form; the message says which."),
    "401": _error("Wrong username or password (the two cannot be told apart)."),
    "403": _error("Not allowed now: budget spent, team not validated, dataset not in this phase, submissions closed."),
    "404": _error("No such dataset."),
    "413": _error("The request or its file is too large."),
    "429": _error("Too many failed logins from this address on this team, or on this team lately.", retry_after=True),
    "503": _error("Nothing could be recorded now (a full disk, a read-only or locked database); try again.",
                  retry_after=True),
}

_DIGITS = "ASCII digits only: '\\u0660', ' 0', '0_0' and '+0' are refused."
_ID = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}
_LOGIN_FIELDS = {
    "username": {"type": "string", "description": "The team's API username (`hackbot team create` or /token)."},
    "password": {"type": "string", "description": "The team's API password."},
    "exercise_id": {**_ID, "description": "The dataset id. " + _DIGITS},
}
_REVEAL_FORM = {
    "type": "object",
    "properties": {**_LOGIN_FIELDS, "datum_id": {**_ID, "description": "The row of X_val. " + _DIGITS}},
    "required": ["username", "password", "exercise_id", "datum_id"],
}
_SUBMIT_FORM = {
    "type": "object",
    "properties": {
        **_LOGIN_FIELDS,
        "file": {"type": "string", "contentMediaType": "text/csv",
                 "description": "The label file, named *.csv: one integer label per line, no header."},
    },
    "required": ["username", "password", "exercise_id", "file"],
}


def description() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hackbot HTTP API",
            "version": metadata.version("hackbot"),
            "description": "Compatible with the Hackathon42 leaderboard server. Every error is JSON "
                           "{\"error\": \"...\"} with a message that says what to do.",
        },
        "paths": {
            "/reveal/": {"post": {
                "summary": "Reveal one hidden label within the team's budget (re-revealing a datum is free).",
                "operationId": "reveal",
                "requestBody": {"required": True, "content": {
                    "application/x-www-form-urlencoded": {"schema": _REVEAL_FORM},
                    "multipart/form-data": {"schema": _REVEAL_FORM},
                }},
                "responses": {
                    "200": {"description": "The label.", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Reveal"}}}},
                    **_LOGIN_ERRORS,
                },
            }},
            "/submit/": {"post": {
                "summary": "The team's one submission for a dataset in this phase.",
                "operationId": "submit",
                "requestBody": {"required": True, "content": {
                    "multipart/form-data": {"schema": _SUBMIT_FORM,
                                            "encoding": {"file": {"contentType": "text/csv"}}},
                }},
                "responses": {
                    "200": {"description": "Recorded and scored.", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Submission"}}}},
                    **_LOGIN_ERRORS,
                    "409": _error("Already submitted: the message says when it was recorded (and its accuracy "
                                  "while the leaderboard is live)."),
                },
            }},
            "/api/leaderboard": {"get": {
                "summary": "The leaderboard of a phase (scores left out while it is hidden).",
                "operationId": "leaderboard",
                "parameters": [{"name": "phase", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "A phase id; the current phase by default."}],
                "responses": {
                    "200": {"description": "The standings.", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Leaderboard"}}}},
                    "404": _error("No such phase."),
                    "503": _LOGIN_ERRORS["503"],
                },
            }},
            "/healthz": {"get": {
                "summary": "Health check: the database answers.",
                "operationId": "healthz",
                "responses": {
                    "200": {"description": "Up.", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Health"}}}},
                    "503": _LOGIN_ERRORS["503"],
                },
            }},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string", "minLength": 1}},
                      "required": ["error"], "additionalProperties": False},
            "Reveal": {
                "type": "object",
                "properties": {
                    "exercise_id": {"type": "integer"},
                    "datum_id": {"type": "integer"},
                    "label": {"type": "integer"},
                    "previously revealed": {"type": "array", "items": {"type": "integer"},
                                            "description": "The team's other revealed datums, in reveal order."},
                },
                "required": ["exercise_id", "datum_id", "label", "previously revealed"],
                "additionalProperties": False,
            },
            "Submission": {
                "type": "object",
                "properties": {
                    "exercise_id": {"type": "integer"},
                    "rows": {"type": "integer", "minimum": 1},
                    "accuracy": {"type": "number", "minimum": 0, "maximum": 1,
                                 "description": "The public accuracy (all rows when the dataset has no private "
                                                "part); left out while the leaderboard is hidden or blind."},
                    "submissions_left": {"type": "integer", "minimum": 0,
                                         "description": "Where a dataset takes several submissions and limits them: "
                                                        "how many the team may still send now."},
                },
                "required": ["exercise_id", "rows"],
                "additionalProperties": False,
            },
            "Leaderboard": {
                "type": "object",
                "properties": {
                    "phase": {"type": ["string", "null"]},
                    "visibility": {"enum": ["live", "hidden"]},
                    "board": {"enum": ["public", "private", "live"],
                              "description": "public during the event; private: the final board, after submissions "
                                             "close; live: the organizers' board during a freeze."},
                    "frozen": {"type": "boolean", "description": "The board as it stood at a dataset's freeze."},
                    "label_versions": {"type": "object", "additionalProperties": {"type": "integer"},
                                       "description": "Datasets whose labels were corrected: the version in force."},
                    "datasets": {"type": "array", "items": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                       "points": {"type": "number"}, "default_score": {"type": "number"}},
                        "required": ["id", "name", "points", "default_score"],
                    }},
                    "teams": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "rank": {"type": ["integer", "null"]},
                            "team": {"type": "string"},
                            "total": {"type": ["number", "null"]},
                            "kind": {"enum": ["team", "baseline", "disqualified"],
                                     "description": "Baselines and disqualified teams are shown, never ranked."},
                            "scores": {"type": "object", "additionalProperties": {
                                "type": "object",
                                "properties": {"submitted": {"type": "boolean"},
                                               "score": {"type": ["number", "null"]}},
                                "required": ["submitted", "score"],
                            }},
                        },
                        "required": ["rank", "team", "total", "scores"],
                    }},
                },
                "required": ["phase", "visibility", "datasets", "teams"],
            },
            "Health": {
                "type": "object",
                "properties": {"status": {"const": "ok"}, "event": {"type": "string"},
                               "phase": {"type": ["string", "null"]}},
                "required": ["status", "event", "phase"],
            },
        }},
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(description())
