"""The LLM operator against a real local chat-completions server, through the real openai client."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("openai")

from primordium.cli import main  # noqa: E402
from primordium.redqueen.config import LLMConfig  # noqa: E402
from primordium.redqueen.llm import LLMClient, LLMError, LLMOperator, extract_code  # noqa: E402
from primordium.redqueen.mutation import Job  # noqa: E402
from primordium.store import Store  # noqa: E402
from tests.redqueen.conftest import SMALL_CORE  # noqa: E402

GOOD = "Here is a bomber.\n```redcode\n;redcode-94\n;name LLM Dwarf\n        add.ab #4, 3\n        mov.i 2, @2\n        jmp -2\n        dat #0, #0\n```\nIt bombs every 4th cell."
NO_CODE = "I would write a warrior that bombs the core, but I will not show it."
BAD_CODE = "```redcode\nmov.q 0, 1\n```"


class Server:
    """Speaks just enough of POST /v1/chat/completions; replies follow a script, then GOOD forever."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, obj):
                body = json.dumps(obj).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout we scripted)

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(req)
                    step = server.script.pop(0) if server.script else ("reply", GOOD)
                kind, arg = step
                if kind == "status":
                    self._send(arg, {"error": {"message": "scripted failure", "type": "server_error"}})
                    return
                if kind == "sleep":
                    time.sleep(arg)
                    step = ("reply", GOOD)
                    arg = GOOD
                usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
                body = {"id": "x", "object": "chat.completion", "created": 0, "model": req["model"],
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": arg}}]}
                if kind != "reply-no-usage":
                    body["usage"] = usage
                self._send(200, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def cfg(url, **kw):
    base = dict(base_url=url, model="scripted", timeout=0.5, retries=2, backoff=0.01, concurrency=1)
    base.update(kw)
    return LLMConfig(**base)


def test_extract_code():
    assert extract_code(GOOD).startswith(";redcode-94\n;name LLM Dwarf")
    assert extract_code(NO_CODE) is None
    assert extract_code("```\nmov 0, 1\n```\n```redcode\ndat 0\n```") == "dat 0\n"  # the tagged block wins
    assert extract_code("```python\nprint(1)\n```") == "print(1)\n"  # else the first (it will not assemble)


def test_retries_on_500_and_timeout_then_succeeds():
    with Server([("status", 500), ("sleep", 1.5), ("reply", GOOD)]) as srv:
        reply = LLMClient(cfg(srv.url)).chat([{"role": "user", "content": "hi"}])
    assert reply.text == GOOD
    assert reply.attempts == 3
    assert "HTTP 500" in reply.error and "timeout" in reply.error
    assert (reply.prompt_tokens, reply.completion_tokens, reply.tokens_estimated) == (100, 20, False)
    assert len(srv.requests) == 3


def test_gives_up_after_retries_and_estimates_tokens_without_usage():
    with Server([("status", 503)] * 3) as srv:
        r = LLMClient(cfg(srv.url)).chat([{"role": "user", "content": "hi"}])
    assert r.text is None and r.attempts == 3 and r.error.count("HTTP 503") == 3
    with Server([("reply-no-usage", GOOD)]) as srv:
        r = LLMClient(cfg(srv.url)).chat([{"role": "user", "content": "x" * 400}])
    assert r.tokens_estimated and r.prompt_tokens == 100 and r.completion_tokens == len(GOOD) // 4


def test_bad_key_is_a_user_error():
    with Server([("status", 401)]) as srv:
        with pytest.raises(LLMError, match="refused the key"):
            LLMClient(cfg(srv.url)).chat([{"role": "user", "content": "hi"}])


def test_operator_prompts_and_no_code_block():
    s = SMALL_CORE.settings()
    from primordium.redqueen.archive import Elite

    parent = Elite(3, 1.0, (0, 0), {}, ";name P\nmov.i 0, 1\n")
    with Server([("reply", NO_CODE)]) as srv:
        op = LLMOperator(cfg(srv.url, concurrency=4), s)
        props = op.propose([Job("new", 1, -1, 0, 0), Job("mutate", 1, 0, 0, 0, parent=parent),
                            Job("new", 1, -1, 1, 0)])
    assert sum(p.source is None for p in props) == 1
    assert [p.error for p in props if p.source is None] == ["reply has no code block"]
    assert all(p.source.startswith(";redcode-94") for p in props if p.source)
    assert [p.operator for p in props] == ["llm-new", "llm-mutate", "llm-new"]
    sys_prompts = {r["messages"][0]["content"] for r in srv.requests}
    assert len(sys_prompts) == 1 and "Redcode" in sys_prompts.pop() and "800 cells" in srv.requests[0]["messages"][0]["content"]
    mutate = [r for r in srv.requests if "mov.i 0, 1" in r["messages"][1]["content"]]
    assert len(mutate) == 1  # the parent's source is in the improve prompt
    assert all(r["model"] == "scripted" for r in srv.requests)


def test_run_with_llm_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRIMORDIUM_HOME", str(tmp_path / "home"))
    script = [("status", 500), ("sleep", 1.5), ("reply", NO_CODE), ("reply", BAD_CODE)]
    with Server(script) as srv:
        toml = tmp_path / "drq.toml"
        toml.write_text(
            "rounds = 2\niterations = 3\nn_init = 3\nbattle_rounds = 3\nhistory = 1\nthreshold = 10.0\n"
            f"operator = 'llm'\n[core]\ncore_size = 800\ncycles = 1500\nprocesses = 200\nlength = 20\ndistance = 20\n"
            f"[llm]\nbase_url = '{srv.url}'\nmodel = 'scripted'\ntimeout = 0.5\nretries = 2\nbackoff = 0.01\n"
            "concurrency = 1\n")
        try:
            main(["redqueen", "run", "--config", str(toml), "--json"])
        except SystemExit as e:
            assert e.code in (0, None)
        data = json.loads(capsys.readouterr().out)
    run = Store(tmp_path / "home").open(data["run"])
    s = run.summary
    assert s["llm_calls"] == 2 * (3 + 3)  # one call per proposal, retries inside a call
    assert s["llm_no_code"] == 1
    assert s["invalid"] == 2  # no code block, and code that does not assemble
    assert s["evaluated"] == 2 * 6 - 2
    calls = [json.loads(x) for x in (run.dir / "llm_calls.jsonl").read_text().splitlines()]
    assert len(calls) == s["llm_calls"]
    assert calls[0]["attempts"] == 3 and "HTTP 500" in calls[0]["error"] and "timeout" in calls[0]["error"]
    assert s["prompt_tokens"] == 100 * len(calls) and s["completion_tokens"] == 20 * len(calls)
    cands = [json.loads(x) for x in (run.dir / "candidates.jsonl").read_text().splitlines()]
    bad = [c for c in cands if not c["valid"]]
    assert {c["error"].split(":")[0] for c in bad} == {"reply has no code block", "does not assemble"}
    assert {c["operator"] for c in cands} <= {"llm-new", "llm-mutate"}
    assert any(c["operator"] == "llm-mutate" and c["parents"] for c in cands)
    assert all(r["champion"] for r in data["rounds"])
    # The key never reaches the run's files.
    assert "api_key\"" not in (run.dir / "config.json").read_text()
