"""A loopback HTTP server standing in for Slack and Teams webhooks: it records every POST
and answers with the status codes it is told to, in order (then 200)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Post:
    path: str
    body: bytes
    status: int  # what the server answered

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def slack_api(path: str, body: bytes, base: str) -> bytes | None:
    """Slack Web API answers for a bot token's calls (``/api/<method>``); None elsewhere."""
    method = path.rsplit("/", 1)[-1]
    replies: dict[str, dict[str, Any]] = {
        "chat.postMessage": {"ok": True, "ts": "1700000000.000100"},
        "files.getUploadURLExternal": {"ok": True, "upload_url": f"{base}/upload/F0REPORT",
                                       "file_id": "F0REPORT"},
        "files.completeUploadExternal": {"ok": True, "files": [{"id": "F0REPORT"}]},
    }
    if path.startswith("/api/") and method in replies:
        return json.dumps(replies[method]).encode()
    return None


@dataclass
class WebhookServer:
    answers: list[int] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)

    def start(self) -> WebhookServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server hook's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = owner.answers.pop(0) if owner.answers else 200
                owner.posts.append(Post(self.path, body, status))
                reply = b"ok" if status == 200 else b"no_service"
                if status == 200:
                    reply = slack_api(self.path, body, owner.url) or reply
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def accepted(self, path: str) -> list[Post]:
        return [p for p in self.posts if p.path == path and p.status == 200]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
