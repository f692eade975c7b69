"""A request as the adapters hold it never shows its session token, keys, request token or checksum in its
repr (a log line, a traceback with locals, an assertion's output)."""

from __future__ import annotations

from adapters.broker.kite import _Call
from adapters.broker.transport import HttpRequest

SECRETS = ("token k:access-token-1", "secret-key-2", "request-token-3", "checksum-4")


def test_an_http_requests_repr_names_it_and_holds_no_secret():
    request = HttpRequest(where="login for ZR1", endpoint="POST /session/token", method="POST",
                          url="https://api.kite.trade/session/token", headers={"Authorization": SECRETS[0]},
                          user_id=1, params={"api_key": SECRETS[1]},
                          data={"request_token": SECRETS[2], "checksum": SECRETS[3]}, mutating=False)
    shown = repr(request)
    assert "login for ZR1" in shown and "POST /session/token" in shown
    assert not [secret for secret in SECRETS if secret in shown]


def test_a_kite_calls_repr_holds_no_form():
    call = _Call(what="session", method="POST", route="/session/token",
                 form={"api_key": SECRETS[1], "request_token": SECRETS[2], "checksum": SECRETS[3]})
    assert "session" in repr(call) and not [secret for secret in SECRETS if secret in repr(call)]
