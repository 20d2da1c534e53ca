"""A DRQ run against a local chat-completions server that misbehaves: it finishes, or fails in one line.

Each server here answers the model list properly and then answers every
chat request in one bad way. Whatever it does, ``redqueen run`` must end
with exit 0 (the requests counted as failed, logged and retried) or one
line and exit 2, in bounded time, with a bounded ``llm_calls.jsonl``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from primordium.cli import main
from primordium.redqueen.config import LLMConfig
from primordium.redqueen.llm import LLMClient, Malformed, parse_completion
from primordium.store import Store

CAP = 64 * 1024  # max_reply_bytes for these runs
DEADLINE = 1.0  # llm.timeout: seconds for a whole request
GOOD = "```redcode\n;name Dwarf\nadd.ab #4, 3\nmov.i 2, @2\njmp -2\ndat #0, #0\n```"


def completion(content=GOOD, **over) -> dict:
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "hostile",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
    body.update(over)
    return body


class _QuietOnHangUp(ThreadingHTTPServer):
    """The test's own server: a client that hangs up on it (as the CLI may, after a
    401 or at its deadline) is expected, and must not print a server-side traceback
    into the stderr the tests inspect."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Hostile:
    """A server on 127.0.0.1 whose every chat request gets ``answer(handler)``; it stops itself after ``life`` s."""

    def __init__(self, answer, life: float = 20.0):
        self.posts = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                body = b'{"object": "list", "data": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                server.posts += 1
                self.close_connection = True
                with contextlib.suppress(OSError):  # the client gave up on us, as it should
                    answer(self)

        self.httpd = _QuietOnHangUp(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.timer = threading.Timer(life, self.httpd.shutdown)  # never outlives a test
        self.timer.daemon = True

    def __enter__(self):
        self.thread.start()
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()


def send(h, status=200, body=b"", ctype="application/json", length=True):
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    if length:
        h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def run(tmp_path, monkeypatch, capsys, url, flags=(), **llm):
    """A one-round, one-iteration run (two chat requests, one retry each); (exit code, stderr, run or None)."""
    monkeypatch.setenv("PRIMORDIUM_HOME", str(tmp_path / "home"))
    settings = {"timeout": DEADLINE, "max_reply_bytes": CAP} | llm
    toml = tmp_path / "drq.toml"
    toml.write_text(
        "rounds = 1\niterations = 1\nn_init = 1\nbattle_rounds = 1\nthreshold = 10.0\n"
        "warmup_opponents = false\nwarmup_champions = false\ninitial_opponents = ['imp']\n"
        "[core]\ncore_size = 800\ncycles = 800\nprocesses = 64\nlength = 20\ndistance = 20\n"
        f"[llm]\nbase_url = '{url}'\nmodel = 'hostile'\nretries = 1\nbackoff = 0.01\nconcurrency = 1\n"
        + "".join(f"{k} = {v!r}\n" for k, v in settings.items())
    )
    code = 0
    try:
        main(["redqueen", "run", "--config", str(toml), "--json", *flags])
    except SystemExit as e:
        code = e.code or 0
    out, err = capsys.readouterr()
    runs = Store(tmp_path / "home")
    opened = runs.open(json.loads(out)["run"]) if code == 0 else None
    return code, err, opened


def failed_cleanly(tmp_path, monkeypatch, capsys, answer, expect=None, posts=4, **llm):
    """The run ends with exit 0; both requests failed, each attempt named in the log (``expect``)."""
    t0 = time.monotonic()
    with Hostile(answer) as srv:
        code, err, r = run(tmp_path, monkeypatch, capsys, srv.url, **llm)
    assert code == 0, err
    assert time.monotonic() - t0 < 15
    assert srv.posts == posts
    s = r.summary
    assert s["llm_calls"] == 2 and s["llm_failed"] == 2 and s["evaluated"] == 0
    log = r.dir / "llm_calls.jsonl"
    # Bounded: never the body itself, whatever the server sent.
    assert log.stat().st_size < 2 * 4096
    calls = [json.loads(x) for x in log.read_text().splitlines()]
    for c in calls:
        assert not c["ok"] and c["reply"] is None and c["attempts"] == posts // 2
        assert expect is None or c["error"].count(expect) == 2, c["error"]
    return calls


def test_body_not_utf8(tmp_path, monkeypatch, capsys):
    failed_cleanly(
        tmp_path,
        monkeypatch,
        capsys,
        lambda h: send(h, body=b'{"choices": "\xff\xfe"}'),
        "not UTF-8",
    )


def test_text_plain_body(tmp_path, monkeypatch, capsys):
    failed_cleanly(
        tmp_path,
        monkeypatch,
        capsys,
        lambda h: send(h, body=b"Here is a warrior: MOV 0, 1", ctype="text/plain"),
        "not JSON (text/plain",
    )


def test_message_null(tmp_path, monkeypatch, capsys):
    body = completion(choices=[{"index": 0, "message": None}])
    failed_cleanly(
        tmp_path,
        monkeypatch,
        capsys,
        lambda h: send(h, body=json.dumps(body).encode()),
        "choices[0].message is 'None'",
    )


def test_usage_junk(tmp_path, monkeypatch, capsys):
    body = completion(usage={"prompt_tokens": "lots", "completion_tokens": 5})
    failed_cleanly(
        tmp_path,
        monkeypatch,
        capsys,
        lambda h: send(h, body=json.dumps(body).encode()),
        "usage.prompt_tokens is 'lots'",
    )


@pytest.mark.parametrize(
    "body,expect",
    [
        (b"[1, 2, 3]", "JSON list, not an object"),
        (b"", "not JSON"),
        (b'{"object": "chat.completion"}', "no choices"),
        (b'{"choices": [{"message": {"content": 42}}]}', "content is not a string"),
    ],
)
def test_json_that_is_no_completion(tmp_path, monkeypatch, capsys, body, expect):
    failed_cleanly(tmp_path, monkeypatch, capsys, lambda h: send(h, body=body), expect)


def test_trickling_body_meets_the_deadline(tmp_path, monkeypatch, capsys):
    """A byte every 0.1 s never lets a read time out; the deadline stops each attempt at 1 s."""

    body = json.dumps(completion()).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    whole = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    seen = []

    def trickle(h):
        seen.append(len(seen))
        # Every other attempt trickles from its status line on, the others from their body on.
        start = 0 if len(seen) % 2 else len(whole) - len(body)
        h.wfile.write(whole[:start])
        for i in range(start, len(whole)):
            h.wfile.write(whole[i : i + 1])
            h.wfile.flush()
            time.sleep(0.1)

    t0 = time.monotonic()
    failed_cleanly(tmp_path, monkeypatch, capsys, trickle, "timeout after 1s")
    assert time.monotonic() - t0 < 4 * DEADLINE + 4  # four attempts, plus the run itself


def test_oversized_body_is_cut_off(tmp_path, monkeypatch, capsys):
    """A reply past the cap is refused: with a Content-Length unread, without one after CAP bytes."""
    big = json.dumps(completion(content="x" * (4 * CAP))).encode()
    seen = []

    def flood(h):
        seen.append(len(seen))
        send(h, body=big, length=len(seen) % 2 == 1)  # every other one with no length

    failed_cleanly(tmp_path, monkeypatch, capsys, flood, f"larger than {CAP} bytes")


def test_connection_closed_mid_body(tmp_path, monkeypatch, capsys):
    """A server that takes the request and drops it is reached: the requests fail, the run goes on."""
    body = json.dumps(completion()).encode()

    def drop(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])

    failed_cleanly(tmp_path, monkeypatch, capsys, drop, "broken reply (IncompleteRead")


def test_wrong_status_codes(tmp_path, monkeypatch, capsys):
    """Codes that are not 2xx fail the request (a 4xx without retrying); a status line that is not HTTP too."""
    statuses = iter([302, 418])

    def odd(h):
        send(h, status=next(statuses), body=json.dumps(completion()).encode())

    calls = failed_cleanly(tmp_path, monkeypatch, capsys, odd, posts=2)
    # 302 and 418 are not retried: a bad request stays bad.
    assert [c["error"] for c in calls] == ["HTTP 302", "HTTP 418"]

    statuses = iter([999, 599, 200, 200])

    def worse(h):
        code = next(statuses)
        if code == 200:
            h.wfile.write(b"HTTP/1.1 two hundred OK\r\n\r\n{}")
        else:
            send(h, status=code, body=b"{}")

    (tmp_path / "2").mkdir()
    calls = failed_cleanly(tmp_path / "2", monkeypatch, capsys, worse)
    assert calls[0]["error"] == "HTTP 999; HTTP 599"
    assert calls[1]["error"].count("broken reply (BadStatusLine") == 2


def test_key_refused_is_one_line(tmp_path, monkeypatch, capsys):
    t0 = time.monotonic()
    with Hostile(lambda h: send(h, status=401, body=b"nope")) as srv:
        code, err, _ = run(tmp_path, monkeypatch, capsys, srv.url)
    errors = [x for x in err.splitlines() if x.startswith("error:")]
    assert code == 2 and "Traceback" not in err and err.rstrip().splitlines()[-1] == errors[0]
    assert len(errors) == 1 and "refused the key (HTTP 401)" in errors[0]
    assert time.monotonic() - t0 < 15


def test_bad_settings_are_refused(tmp_path, monkeypatch, capsys):
    code, err, _ = run(tmp_path, monkeypatch, capsys, "http://127.0.0.1:9/v1", max_reply_bytes=10)
    assert code == 2 and "llm.max_reply_bytes" in err and len(err.strip().splitlines()) == 1
    code, err, _ = run(
        tmp_path, monkeypatch, capsys, "http://127.0.0.1:9/v1", ["--llm-max-reply-bytes", "1023"]
    )
    assert code == 2 and "flags: field 'llm.max_reply_bytes'" in err and "1023" in err
    code, err, _ = run(
        tmp_path, monkeypatch, capsys, "http://127.0.0.1:9/v1", ["--api-key", "k\x7f"]
    )
    assert code == 2 and "API key" in err and len(err.strip().splitlines()) == 1
    code, err, _ = run(tmp_path, monkeypatch, capsys, "ftp://127.0.0.1:9/v1")
    assert code == 2 and "llm.base_url" in err and len(err.strip().splitlines()) == 1


def test_what_a_completion_may_look_like():
    """The checks refuse junk only: null content, no usage, null counts are all well formed."""
    ok = completion(content=None, usage=None)
    assert parse_completion("application/json", json.dumps(ok).encode()) == ([""], None)
    ok = completion(usage={"prompt_tokens": None})
    assert parse_completion("", json.dumps(ok).encode()) == ([GOOD], None)
    ok = completion(usage={"prompt_tokens": 7.0})
    assert parse_completion("", json.dumps(ok).encode()) == ([GOOD], (7, 0))
    bad = (
        {"prompt_tokens": True},
        {"prompt_tokens": 1.5},
        {"prompt_tokens": 1, "completion_tokens": -1},
        [1],
    )
    for junk in bad:
        with pytest.raises(Malformed, match="usage"):
            parse_completion("", json.dumps(completion(usage=junk)).encode())


def test_escaping_cannot_grow_the_log_past_the_cap():
    """A reply within the cap whose text takes three times the room once escaped in the log fails."""
    body = json.dumps(completion(content="é" * 300), ensure_ascii=False).encode()
    assert len(body) < 900 and len(json.dumps("é" * 300)) > 1024
    with Hostile(lambda h: send(h, body=body)) as srv:
        cfg = LLMConfig(base_url=srv.url, timeout=DEADLINE, retries=0, max_reply_bytes=1024)
        reply = LLMClient(cfg).chat([{"role": "user", "content": "hi"}])
    assert reply.text is None and "larger than 1024 bytes once escaped" in reply.error
