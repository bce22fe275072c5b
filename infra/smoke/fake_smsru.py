"""A stand-in for SMS.ru's HTTP API for `make compose-smoke`: the production stack's OTP worker
sends its SMS here (SMS_BACKEND=smsru, SMSRU_API_BASE pointing at this container), and the smoke
reads them back to sign in with the code.

POST /sms/send with the form fields api_id, to (digits), msg and json=1 answers as SMS.ru does
when it accepts a message (https://sms.ru/api/send): {"status": "OK", "status_code": 100,
"sms": {<to>: {"status": "OK", "status_code": 100, "sms_id": ...}}}; an api_id other than
SMSRU_API_ID gets SMS.ru's code 200, "wrong api_id". GET /messages lists the accepted messages,
oldest first: [{"to": digits, "msg": text}]."""

from __future__ import annotations

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MESSAGES: list[dict[str, str]] = []
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        fields = {name: values[0] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path != "/sms/send":
            return self.answer(404, {})
        if fields.get("api_id") != os.environ["SMSRU_API_ID"]:
            return self.answer(200, {"status": "ERROR", "status_code": 200, "status_text": "wrong api_id"})
        with LOCK:
            MESSAGES.append({"to": fields.get("to", ""), "msg": fields.get("msg", "")})
        accepted = {"status": "OK", "status_code": 100, "sms_id": uuid.uuid4().hex}
        return self.answer(200, {"status": "OK", "status_code": 100, "sms": {fields.get("to", ""): accepted}})

    def do_GET(self) -> None:
        if self.path != "/messages":
            return self.answer(404, {})
        with LOCK:
            return self.answer(200, list(MESSAGES))

    def answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    # Inside its container, on the back network only: the OTP worker has to reach it.
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()  # noqa: S104
