"""The LLM operator against a real local chat-completions server, over real HTTP."""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from primordium.cli import main
from primordium.corewar.redcode import assemble
from primordium.errors import ConfigError
from primordium.redqueen.config import LLMConfig
from primordium.redqueen.llm import LLMClient, LLMError, LLMOperator, default_prompt, extract_code
from primordium.redqueen.mutation import Job
from primordium.store import Store
from tests.redqueen.conftest import SMALL_CORE

GOOD = "Here is a bomber.\n```redcode\n;redcode-94\n;name LLM Dwarf\n        add.ab #4, 3\n        mov.i 2, @2\n        jmp -2\n        dat #0, #0\n```\nIt bombs every 4th cell."
NO_CODE = "I would write a warrior that bombs the core, but I will not show it."
BAD_CODE = "```redcode\nmov.q 0, 1\n```"


class Server:
    """Speaks just enough of POST /v1/chat/completions; replies follow a script, then GOOD forever.

    A request for n choices takes n replies from the script (a failure step
    fails the whole request); with ``honor_n=False`` it answers one choice,
    as servers that ignore n do.
    """

    def __init__(self, script, honor_n: bool = True, tls: ssl.SSLContext | None = None):
        self.script = list(script)
        self.honor_n = honor_n
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
                n = int(req.get("n", 1)) if server.honor_n else 1

                def pop():
                    with server.lock:
                        return server.script.pop(0) if server.script else ("reply", GOOD)

                with server.lock:
                    server.requests.append(req)
                steps = [pop()]
                kind, arg = steps[0]
                if kind == "status":
                    self._send(
                        arg, {"error": {"message": "scripted failure", "type": "server_error"}}
                    )
                    return
                if kind == "sleep":
                    time.sleep(arg)
                    steps[0] = ("reply", GOOD)
                steps += [pop() for _ in range(n - 1)]
                usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
                body = {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": req["model"],
                    "choices": [
                        {
                            "index": i,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": a},
                        }
                        for i, (_, a) in enumerate(steps)
                    ],
                }
                if kind != "reply-no-usage":
                    body["usage"] = usage
                self._send(200, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def cfg(url, **kw):
    # 2 s: a loaded CI machine (two test workers on two cores) answers well within it;
    # the scripted "sleep" steps (4 s) are what must time out.
    base = dict(base_url=url, model="scripted", timeout=2.0, retries=2, backoff=0.01, concurrency=1)
    base.update(kw)
    return LLMConfig(**base)


def test_extract_code():
    assert extract_code(GOOD).startswith(";redcode-94\n;name LLM Dwarf")
    assert extract_code(GOOD).endswith("dat #0, #0\n")
    # Every fenced block, in order, joined.
    assert (
        extract_code("a\n```\nmov 0, 1\n```\ntext\n```redcode\ndat 0\n```\n") == "mov 0, 1\ndat 0\n"
    )
    # No fence: the whole reply (prose will not assemble, and fails as a candidate).
    assert extract_code(NO_CODE) == NO_CODE + "\n"
    assert extract_code("mov.i $0, $1\n") == "mov.i $0, $1\n"
    # A reply cut short inside its block keeps what it wrote.
    assert extract_code("Here:\n```redcode\nmov 0, 1\njmp -1") == "mov 0, 1\njmp -1\n"
    assert (
        extract_code("") is None and extract_code("  \n\n") is None and extract_code(None) is None
    )
    # The public code's way: fence marks removed, everything else kept.
    assert extract_code("x\n```redcode\nmov 0, 1\n```\ny", "strip-fences") == "x\n\nmov 0, 1\n\ny\n"


def test_retries_on_500_and_timeout_then_succeeds():
    with Server([("status", 500), ("sleep", 4.0), ("reply", GOOD)]) as srv:
        reply = LLMClient(cfg(srv.url)).chat([{"role": "user", "content": "hi"}])
    assert reply.text == GOOD
    assert reply.attempts == 3
    assert "HTTP 500" in reply.error and "timeout" in reply.error
    assert (reply.prompt_tokens, reply.completion_tokens, reply.tokens_estimated) == (
        100,
        20,
        False,
    )
    assert len(srv.requests) == 3


def test_gives_up_after_retries_and_estimates_tokens_without_usage():
    with Server([("status", 503)] * 3) as srv:
        r = LLMClient(cfg(srv.url)).chat([{"role": "user", "content": "hi"}])
    assert r.text is None and r.attempts == 3 and r.error.count("HTTP 503") == 3
    with Server([("reply-no-usage", GOOD)]) as srv:
        r = LLMClient(cfg(srv.url)).chat([{"role": "user", "content": "x" * 400}])
    assert r.tokens_estimated and r.prompt_tokens == 100 and r.completion_tokens == len(GOOD) // 4


def test_bad_key_is_a_user_error():
    with Server([("status", 401)]) as srv, pytest.raises(LLMError, match="refused the key"):
        LLMClient(cfg(srv.url)).chat([{"role": "user", "content": "hi"}])


def test_operator_prompts_and_empty_reply():
    s = SMALL_CORE.settings()
    from primordium.redqueen.archive import Elite

    parent = Elite(3, 1.0, (0, 0), {}, ";name P\nmov.i 0, 1\n")
    with Server([("reply", "")]) as srv:
        op = LLMOperator(cfg(srv.url, concurrency=4), s)
        props = op.propose(
            [
                Job("new", 1, 0, 0, 0),
                Job("mutate", 1, 1, 0, 0, parent=parent),
                Job("new", 1, 2, 0, 0),
            ]
        )
    assert [p.error for p in props if p.source is None] == ["reply has no code"]
    assert all(p.source.startswith(";redcode-94") and p.reply == GOOD for p in props if p.source)
    assert [p.operator for p in props] == ["llm-new", "llm-mutate", "llm-new"]
    sys_prompts = {r["messages"][0]["content"] for r in srv.requests}
    assert (
        len(sys_prompts) == 1
        and "a ring of 800 memory cells" in srv.requests[0]["messages"][0]["content"]
    )
    mutate = [r for r in srv.requests if "mov.i 0, 1" in r["messages"][1]["content"]]
    assert len(mutate) == 1  # a parent without a reply shows its code
    assert all(r["model"] == "scripted" for r in srv.requests)
    # As the public code asks: seed 0, no max_tokens, one choice unless several are wanted.
    assert all(r["seed"] == 0 and "max_tokens" not in r and "n" not in r for r in srv.requests)


def test_system_prompt_covers_all_of_redcode():
    text = default_prompt("system")
    from primordium.corewar.isa import Mod, Op

    for op in Op:
        assert re.search(rf"\b{op.name}\b", text), op.name
    assert re.search(r"\bCMP\b", text)
    for mod in Mod:
        assert f".{mod.name}" in text, mod.name
    for sym in "#$@*<>{}":
        assert f"`{sym}`" in text, sym
    for name in ("core_size", "cycles", "processes", "length", "distance"):
        assert "{" + name + "}" in text
    for word in ("CORESIZE", "MAXPROCESSES", "ORG", "EQU", "END", "default modifier"):
        assert word.lower() in text.lower(), word
    # Every example warrior in the prompt assembles.
    blocks = re.findall(r"```redcode\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    from primordium.corewar.isa import Settings

    for b in blocks:
        assemble(b, Settings())


def test_mutate_prompt_shows_the_parents_whole_reply():
    from primordium.redqueen.archive import Elite

    s = SMALL_CORE.settings()
    parent = Elite(3, 1.0, (0, 0), {}, extract_code(GOOD), reply=GOOD)
    with Server([]) as srv:
        LLMOperator(cfg(srv.url), s).propose([Job("mutate", 1, 0, 0, 0, parent=parent)])
        LLMOperator(cfg(srv.url, parent="code"), s).propose(
            [Job("mutate", 1, 0, 0, 0, parent=parent)]
        )
    whole, code = (r["messages"][1]["content"] for r in srv.requests)
    assert GOOD in whole and "It bombs every 4th cell." in whole
    assert "It bombs every 4th cell." not in code and extract_code(GOOD).strip() in code


def test_several_responses_share_one_request():
    """Jobs that ask the same thing in one iteration are one request with n choices; seed 0 makes that matter."""
    from primordium.redqueen.archive import Elite

    s = SMALL_CORE.settings()
    parent = Elite(3, 1.0, (0, 0), {}, ";name P\nmov.i 0, 1\n")
    other = GOOD.replace("LLM Dwarf", "Second")
    jobs = [Job("mutate", 1, 0, k, 0, parent=parent) for k in range(3)] + [Job("new", 1, 1, 0, 0)]
    with Server([("reply", GOOD), ("reply", other), ("reply", BAD_CODE)]) as srv:
        props = LLMOperator(cfg(srv.url), s).propose(jobs)
    assert sorted(r.get("n", 1) for r in srv.requests) == [1, 3]
    assert [p.reply for p in props[:3]] == [GOOD, other, BAD_CODE]
    assert [p.calls[0]["choice"] for p in props] == [0, 1, 2, 0]
    # A server that ignores n is asked again for the replies still missing.
    with Server([("reply", GOOD), ("reply", other), ("reply", BAD_CODE)], honor_n=False) as srv:
        props = LLMOperator(cfg(srv.url), s).propose(jobs[:3])
    assert [r.get("n", 1) for r in srv.requests] == [3, 2, 1]
    assert [p.reply for p in props] == [GOOD, other, BAD_CODE]


def test_mutate_prompt_without_placeholder_is_refused(tmp_path, shared_dir):
    s = SMALL_CORE.settings()
    theirs = shared_dir / "reference" / "drq" / "src" / "prompts" / "mutate_prompt_0.txt"
    with pytest.raises(ConfigError, match="no {warrior} placeholder") as e:
        LLMOperator(cfg("http://127.0.0.1:9/v1", mutate_prompt=str(theirs)), s)
    assert str(theirs) in str(e.value) and "\n" not in str(e.value)


def test_cli_refuses_mutate_prompt_without_placeholder(tmp_path, monkeypatch, capsys):
    from tests.redqueen.conftest import SMALL_FLAGS

    monkeypatch.setenv("PRIMORDIUM_HOME", str(tmp_path / "home"))
    bad = tmp_path / "mutate.md"
    bad.write_text("Improve the warrior below.\n")
    with pytest.raises(SystemExit) as e:
        main(
            [
                "redqueen",
                "run",
                *SMALL_FLAGS,
                "--operator",
                "llm",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--mutate-prompt",
                str(bad),
            ]
        )
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.strip()]
    assert (
        e.value.code == 2 and len(lines) == 1 and "{warrior}" in lines[0] and str(bad) in lines[0]
    )
    assert not (tmp_path / "home" / "runs").exists() or not any(
        (tmp_path / "home" / "runs").iterdir()
    )


def test_run_with_llm_end_to_end(tmp_path, monkeypatch, capsys):
    """The paper's defaults (warm-up, drq-imp) on a small core, all champions, two responses per parent."""
    monkeypatch.setenv("PRIMORDIUM_HOME", str(tmp_path / "home"))
    # The round's 3 initial warriors are one request: it fails, times out, then brings three bad replies.
    script = [
        ("status", 500),
        ("sleep", 4.0),
        ("reply", NO_CODE),
        ("reply", BAD_CODE),
        ("reply", ""),
    ]
    with Server(script) as srv:
        toml = tmp_path / "drq.toml"
        toml.write_text(
            "rounds = 2\niterations = 3\nn_init = 3\nbattle_rounds = 3\nhistory = 'all'\nresponses = 2\n"
            "threshold = 10.0\n[core]\ncore_size = 800\ncycles = 1500\nprocesses = 200\nlength = 20\n"
            f"distance = 20\n[llm]\nbase_url = '{srv.url}'\nmodel = 'scripted'\ntimeout = 2.0\nretries = 2\n"
            "backoff = 0.01\nconcurrency = 1\n"
        )
        try:
            main(["redqueen", "run", "--config", str(toml), "--json"])
        except SystemExit as e:
            assert e.code in (0, None)
        data = json.loads(capsys.readouterr().out)
    run = Store(tmp_path / "home").open(data["run"])
    s = run.summary
    # Per round: 3 initial warriors and 2 per iteration from the LLM; round 1 warms up with drq-imp,
    # round 2 with drq-imp and round 1's champion.
    assert s["llm_calls"] == 2 * (3 + 3 * 2) and s["proposed"] == s["llm_calls"] + 1 + 2
    assert len(srv.requests) == 2 + 2 * (
        1 + 3
    )  # the failed and timed-out attempts, then one per iteration
    assert (
        s["llm_no_code"] == 1 and s["invalid"] == 3
    )  # an empty reply, prose and bad Redcode: failed candidates
    calls = [json.loads(x) for x in (run.dir / "llm_calls.jsonl").read_text().splitlines()]
    assert len(calls) == s["llm_calls"]
    assert (
        calls[0]["attempts"] == 3
        and "HTTP 500" in calls[0]["error"]
        and "timeout" in calls[0]["error"]
    )
    requests = sum(c["choice"] == 0 for c in calls)
    assert s["prompt_tokens"] == 100 * requests and s["completion_tokens"] == 20 * requests
    cands = [json.loads(x) for x in (run.dir / "candidates.jsonl").read_text().splitlines()]
    bad = [c for c in cands if not c["valid"]]
    assert sorted(c["error"].split(":")[0] for c in bad) == [
        "does not assemble",
        "does not assemble",
        "reply has no code",
    ]
    assert {c["operator"] for c in cands} == {
        "llm-new",
        "llm-mutate",
        "warmup-opponent",
        "warmup-champion",
    }
    pairs = [c for c in cands if c["operator"] == "llm-mutate"]
    assert pairs and all(c["parents"] for c in pairs)
    # Mutation shows the parent's whole reply (its explanation too), or, for drq-imp, its code.
    users = [r["messages"][1]["content"] for r in srv.requests]
    assert any(GOOD in u for u in users)
    assert all(
        r["seed"] == 0 and "max_tokens" not in r and r["model"] == "scripted" for r in srv.requests
    )
    assert all(r["champion"] for r in data["rounds"])
    # The key never reaches the run's files.
    assert 'api_key"' not in (run.dir / "config.json").read_text()


class Proxy:
    """An HTTP proxy on 127.0.0.1: absolute-form requests are forwarded, CONNECT is tunnelled."""

    def __init__(self):
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _forward(self):
                proxy.seen.append(
                    f"{self.command} {self.path} {self.headers['Proxy-Authorization']}"
                )
                u = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                up = HTTPConnection(u.hostname, u.port, timeout=5)
                up.request(
                    self.command, u.path, self.rfile.read(length), {"Content-Length": str(length)}
                )
                answer = up.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.getheader("Content-Type") or "")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _forward

            def do_CONNECT(self):
                proxy.seen.append(f"CONNECT {self.path} {self.headers['Proxy-Authorization']}")
                host, port = self.path.rsplit(":", 1)
                up = socket.create_connection((host, int(port)), timeout=5)
                self.send_response(200)
                self.end_headers()
                self.wfile.flush()

                def pump(a, b):
                    try:
                        while data := a.recv(65536):
                            b.sendall(data)
                    except OSError:
                        pass
                    finally:
                        b.close()  # one side done: the whole tunnel is

                t = threading.Thread(target=pump, args=(up, self.connection), daemon=True)
                t.start()
                pump(self.connection, up)
                t.join(5)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://user:s%40cret@127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _no_proxies(monkeypatch):
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_through_an_http_proxy(monkeypatch):
    """$http_proxy is honoured, with its credentials, as the openai client honoured it; $no_proxy too."""
    _no_proxies(monkeypatch)
    msgs = [{"role": "user", "content": "hi"}]
    with Server([]) as srv, Proxy() as px:
        monkeypatch.setenv("http_proxy", px.url)
        assert LLMClient(cfg(srv.url)).chat(msgs).text == GOOD
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        assert LLMClient(cfg(srv.url)).chat(msgs).text == GOOD
    auth = "Basic dXNlcjpzQGNyZXQ="  # user:s@cret
    assert px.seen == [f"POST {srv.url}/chat/completions {auth}"]
    assert len(srv.requests) == 2


@pytest.mark.skipif(
    shutil.which("openssl") is None, reason="needs the openssl command for a certificate"
)
def test_https_direct_and_through_a_tunnel(tmp_path, monkeypatch):
    """TLS with certificate checks, straight to the server and through a CONNECT proxy ($https_proxy)."""
    _no_proxies(monkeypatch)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    msgs = [{"role": "user", "content": "hi"}]
    with Server([], tls=tls) as srv:
        # Not trusted yet: refused at the handshake, so the endpoint cannot be used.
        with pytest.raises(LLMError, match="cannot reach.*CERTIFICATE_VERIFY_FAILED"):
            LLMClient(cfg(srv.url, retries=0)).chat(msgs)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert LLMClient(cfg(srv.url)).chat(msgs).text == GOOD
        with Proxy() as px:
            monkeypatch.setenv("https_proxy", px.url)
            assert LLMClient(cfg(srv.url)).chat(msgs).text == GOOD
    host = srv.url.split("/")[2]
    assert px.seen == [f"CONNECT {host} Basic dXNlcjpzQGNyZXQ="]
    assert len(srv.requests) == 2
