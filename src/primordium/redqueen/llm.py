"""Any OpenAI-compatible chat-completions endpoint: prompts, retries, concurrency, tokens.

Works with OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio: anything that
speaks ``POST /v1/chat/completions``. A request has one deadline and a cap on
the size of its reply (``bounded_http``), and a reply is used only once it
is checked to be a chat completion. Failures (the deadline passed, 5xx, 429,
broken connections, replies too big or malformed) are retried with
exponential backoff; a request that still fails is recorded and dropped,
except when the endpoint could never be reached or refuses us (bad key,
unknown model): that is the user's setup, and ends the run with one line.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from primordium.errors import ConfigError, PrimordiumError, read_text_file
from primordium.redqueen import bounded_http
from primordium.redqueen.config import LLMConfig


class LLMError(PrimordiumError):
    """The endpoint cannot be used: unreachable, bad key, unknown model."""


@dataclass
class Reply:
    text: str | None  # None: the request failed after all retries
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False  # the server sent no usage; counted as chars / 4
    attempts: int = 1
    seconds: float = 0.0
    error: str | None = None

    def record(self) -> dict[str, Any]:
        return {
            "ok": self.text is not None,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_estimated": self.tokens_estimated,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "reply": self.text,
        }


# -- prompts ----------------------------------------------------------------

PROMPT_FILES = {"system": "system.md", "new": "new.md", "mutate": "mutate.md"}


def default_prompt(kind: str) -> str:
    return (
        resources.files("primordium.redqueen")
        .joinpath("prompts", PROMPT_FILES[kind])
        .read_text("utf-8")
    )


@dataclass(frozen=True)
class Prompts:
    system: str
    new: str
    mutate: str

    @classmethod
    def load(cls, cfg: LLMConfig) -> Prompts:
        def one(kind: str, path: str | None) -> str:
            return read_text_file(Path(path).expanduser()) if path else default_prompt(kind)

        prompts = cls(
            one("system", cfg.system_prompt),
            one("new", cfg.new_prompt),
            one("mutate", cfg.mutate_prompt),
        )
        # A mutate prompt with nowhere to put the parent would ask for blind rewrites
        # (the public code appends the parent instead; a file written for it lands here).
        if "{warrior}" not in prompts.mutate:
            raise ConfigError(
                "mutate prompt has no {warrior} placeholder for the parent warrior; "
                "add one where the parent should go",
                file=cfg.mutate_prompt or "mutate.md",
            )
        return prompts

    def fill(self, text: str, values: dict[str, Any]) -> str:
        # Plain replacement of {name} for known names only: Redcode and
        # examples in a user's prompt may hold braces of their own.
        for k, v in values.items():
            text = text.replace("{" + k + "}", str(v))
        return text


# A fence opens with ``` (and a tag) on its own line and runs to the next ```,
# or to the end of a reply cut short.
_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.S)
_FENCE_MARK = re.compile(r"```.*")


def extract_code(reply: str | None, how: str = "blocks") -> str | None:
    """The Redcode in a reply; None when there is nothing but white space.

    ``blocks``: every fenced block, in order, joined (a warrior split over
    several blocks stays whole; the assembler stops at the first END), or the
    whole reply when it has no fence. ``strip-fences``: the public code's
    way, the whole reply with each fence mark (``` to the end of its line)
    removed, so any prose around the blocks reaches the assembler.
    """
    text = reply or ""
    if how == "strip-fences":
        code = _FENCE_MARK.sub("", text)
    else:
        blocks = _FENCE.findall(text)
        code = "\n".join(b.strip("\n") for b in blocks) if blocks else text
    code = code.strip("\n")
    return code + "\n" if code.strip() else None


# -- the client ---------------------------------------------------------------


def resolve_key(cfg: LLMConfig, api_key: str | None) -> str:
    if api_key:
        return api_key
    key = os.environ.get(cfg.api_key_env)
    # Local servers (vLLM, Ollama, llama.cpp) ignore the key but the client wants one.
    return key or "not-needed"


class Malformed(Exception):
    """A 2xx answer that is not a chat completion; the request failed, like a 500."""


def _excerpt(body: bytes) -> str:
    return repr(body[:60])[1:] + ("..." if len(body) > 60 else "")


def _count(usage: dict, field: str) -> int:
    v = usage.get(field)
    if v is None:
        return 0
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # 12.0: some servers' JSON writers make every number a float
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise Malformed(f"usage.{field} is {str(v)[:40]!r}, not a count")
    return v


def parse_completion(content_type: str, body: bytes) -> tuple[list[str], tuple[int, int] | None]:
    """The choices' texts and the (prompt, completion) token counts, or None when no usage was sent.

    Anything that is not a chat completion raises ``Malformed``: a reply
    the run cannot trust is a failed request, never a crash.
    """
    what = f"{content_type[:60] or 'no content type'}, {len(body)} bytes"
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Malformed(f"not UTF-8 ({what}: {_excerpt(body)})") from None
    except ValueError:
        raise Malformed(f"not JSON ({what}: {_excerpt(body)})") from None
    if not isinstance(data, dict):
        raise Malformed(f"JSON {type(data).__name__}, not an object ({what})")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise Malformed(f"no choices ({what})")
    texts = []
    for i, c in enumerate(choices):
        message = c.get("message") if isinstance(c, dict) else None
        if not isinstance(message, dict):
            raise Malformed(f"choices[{i}].message is {str(message)[:40]!r}, not an object")
        text = message.get("content")
        if text is not None and not isinstance(text, str):
            raise Malformed(f"choices[{i}].message.content is not a string")
        texts.append(text or "")  # no content (a refusal, a tool call) is an empty reply
    usage = data.get("usage")
    if usage is None:
        return texts, None
    if not isinstance(usage, dict):
        raise Malformed(f"usage is {str(usage)[:40]!r}, not an object")
    if usage.get("prompt_tokens") is None:
        return texts, None
    return texts, (_count(usage, "prompt_tokens"), _count(usage, "completion_tokens"))


class LLMClient:
    """Chat completions with a deadline and a size cap per request, retries with backoff and a pool of concurrent requests.

    Speaks HTTP itself (``bounded_http``) rather than through an SDK: the
    deadline must hold for the whole request and the cap for every byte,
    and every answer is checked before anything in it is used.
    """

    def __init__(self, cfg: LLMConfig, api_key: str | None = None):
        self.cfg = cfg
        base = cfg.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        try:
            parts = urlsplit(base)
            parts.port  # noqa: B018 -- raises ValueError on a port that is not a number
        except ValueError as e:
            raise ConfigError(
                f"field 'llm.base_url' (or $OPENAI_BASE_URL): {base!r} is not a URL ({e})"
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"field 'llm.base_url' (or $OPENAI_BASE_URL): {base!r} is not an http:// or https:// URL"
            )
        self.base_url = base.rstrip("/")
        key = resolve_key(cfg, api_key)
        if not key.isascii() or not key.isprintable():
            raise ConfigError(
                f"the API key (--api-key or ${cfg.api_key_env}) holds characters an HTTP "
                "header cannot carry"
            )
        self._headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "primordium",
        }

    def _call(self, method: str, route: str, payload: dict | None, seconds: float, **kw):
        body = None if payload is None else json.dumps(payload).encode()
        return bounded_http.request(
            method,
            self.base_url + route,
            self._headers,
            body,
            seconds,
            self.cfg.max_reply_bytes,
            **kw,
        )

    def _refused(self, status: int) -> LLMError:
        return LLMError(
            f"LLM endpoint {self.base_url} refused the key (HTTP {status}); "
            f"set api_key or ${self.cfg.api_key_env}",
            field="api_key",
        )

    def check(self) -> None:
        """Fail fast, before a run starts, when the endpoint cannot be reached or refuses the key.

        Any HTTP answer other than 401/403 counts as reachable: not every
        server lists its models.
        """
        last = None
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                time.sleep(self.cfg.backoff * 2 ** (attempt - 1))
            try:
                answer = self._call(
                    "GET", "/models", None, min(self.cfg.timeout, 30.0), read_body=False
                )
            except bounded_http.HTTPFailure as e:
                if e.connected or isinstance(e, bounded_http.DeadlinePassed):
                    return  # it answered the connection; what it sends is judged per request
                last = e
                continue
            if answer.status in (401, 403):
                raise self._refused(answer.status)
            return
        raise LLMError(f"cannot reach LLM endpoint {self.base_url} ({last})")

    def chat(self, messages: list[dict[str, str]]) -> Reply:
        return self.complete(messages, 1)[0]

    def complete(self, messages: list[dict[str, str]], n: int = 1) -> list[Reply]:
        """``n`` replies to one conversation, asked for in one request (the API's ``n``), as the public code does.

        With a fixed seed, separate requests for the same conversation could
        all get the same reply; one request with ``n`` choices does not.
        Servers that ignore ``n`` (Ollama, some llama.cpp builds) send fewer
        choices; the rest are asked for again, at most ``n`` requests in all.
        """
        out: list[Reply] = []
        for _ in range(n):
            got = self._request(messages, n - len(out))
            out += got
            if got[0].text is None or len(out) >= n:
                break
        if out[-1].text is None:  # a failed request stands for every reply still missing
            out += [out[-1]] * (n - len(out))
        return out[:n]

    def _request(self, messages: list[dict[str, str]], n: int) -> list[Reply]:
        t0 = time.monotonic()
        errors: list[str] = []
        reached = False
        payload: dict[str, Any] = {
            "model": self.cfg.model,
            "messages": messages,
            "temperature": self.cfg.temperature,
        }
        if n > 1:
            payload["n"] = n
        if self.cfg.max_tokens is not None:
            payload["max_tokens"] = self.cfg.max_tokens
        if self.cfg.seed is not None:
            payload["seed"] = self.cfg.seed
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                time.sleep(self.cfg.backoff * 2 ** (attempt - 1))
            try:
                answer = self._call("POST", "/chat/completions", payload, self.cfg.timeout)
            except bounded_http.DeadlinePassed as e:
                reached = True  # as good as an answer: a server that is slow, not absent
                errors.append(str(e))
                continue
            except bounded_http.HTTPFailure as e:
                reached = reached or e.connected
                errors.append(str(e))
                continue
            reached = True
            status = answer.status
            if status in (401, 403):
                raise self._refused(status)
            if status == 404:
                raise LLMError(
                    f"LLM endpoint {self.base_url}: model {self.cfg.model!r} or the chat-completions "
                    f"route was not found (HTTP 404)"
                )
            if not 200 <= status < 300:
                errors.append(f"HTTP {status}")
                if status < 500 and status != 429:
                    break  # a bad request stays bad
                continue
            try:
                texts, usage = parse_completion(answer.content_type, answer.body)
            except Malformed as e:
                errors.append(f"HTTP {status} but malformed reply: {e}")
                continue
            # Escaping can grow a text (a character to up to twelve bytes); the log holds it escaped
            # and must not grow past the cap per request.
            if sum(len(json.dumps(t)) for t in texts) > self.cfg.max_reply_bytes:
                errors.append(f"reply larger than {self.cfg.max_reply_bytes} bytes once escaped")
                continue
            seconds = time.monotonic() - t0
            replies = [
                Reply(
                    text=t, attempts=attempt + 1, seconds=seconds, error="; ".join(errors) or None
                )
                for t in texts
            ]
            # Tokens are counted per request: the first reply carries them, so sums stay right.
            if usage is not None:
                replies[0].prompt_tokens, replies[0].completion_tokens = usage
            else:
                for r in replies:
                    r.tokens_estimated = True
                    r.completion_tokens = len(r.text or "") // 4
                replies[0].prompt_tokens = sum(len(m["content"]) for m in messages) // 4
            return replies
        if not reached:
            raise LLMError(f"cannot reach LLM endpoint {self.base_url} ({errors[-1]})")
        return [
            Reply(
                text=None,
                attempts=len(errors),
                seconds=time.monotonic() - t0,
                error="; ".join(errors),
            )
        ]

    def chat_many(
        self, conversations: Sequence[list[dict[str, str]]], n: Sequence[int] | None = None
    ) -> list[list[Reply]]:
        """Many conversations at once (up to ``concurrency`` requests in flight); ``n[i]`` replies to each, in order."""
        if not conversations:
            return []
        n = list(n) if n is not None else [1] * len(conversations)
        with ThreadPoolExecutor(max_workers=min(self.cfg.concurrency, len(conversations))) as pool:
            return list(pool.map(self.complete, conversations, n))


class LLMOperator:
    """The mutation operator of the paper: ask a language model to write or improve a warrior."""

    name = "llm"

    def __init__(
        self, cfg: LLMConfig, settings, api_key: str | None = None, client: LLMClient | None = None
    ):
        self.cfg = cfg
        self.settings = settings
        self.prompts = Prompts.load(cfg)
        self.client = client or LLMClient(cfg, api_key)
        self.client.check()

    def _values(self) -> dict[str, Any]:
        s = self.settings
        return {
            "core_size": s.core_size,
            "cycles": s.cycles,
            "processes": s.processes,
            "length": s.length,
            "distance": s.distance,
        }

    def parent_text(self, parent) -> str:
        """What the mutate prompt shows of a parent: its whole reply (the public code) or its code."""
        reply = getattr(parent, "reply", None)
        if self.cfg.parent == "reply" and reply:
            return reply.strip()
        # Warm-up opponents and champions, offline elites: no reply, only their Redcode.
        return "```redcode\n" + parent.source.strip() + "\n```"

    def messages(self, job) -> list[dict[str, str]]:
        values = self._values()
        if job.kind == "new" or job.parent is None:
            task = self.prompts.fill(self.prompts.new, values)
        else:
            task = self.prompts.fill(
                self.prompts.mutate, values | {"warrior": self.parent_text(job.parent)}
            )
        return [
            {"role": "system", "content": self.prompts.fill(self.prompts.system, values)},
            {"role": "user", "content": task},
        ]

    def propose(self, jobs):
        from primordium.redqueen.mutation import Proposal

        # Jobs of one iteration that ask the same thing (a round's initial
        # warriors; several responses to one parent) share one request with n
        # choices, as the public code asks for them.
        groups: dict[tuple, list[int]] = {}
        convs: dict[tuple, list[dict[str, str]]] = {}
        for i, job in enumerate(jobs):
            m = self.messages(job)
            key = (job.round, job.iteration, tuple(x["content"] for x in m))
            groups.setdefault(key, []).append(i)
            convs[key] = m
        keys = list(groups)
        answers = self.client.chat_many([convs[k] for k in keys], [len(groups[k]) for k in keys])
        replies: list[Reply | None] = [None] * len(jobs)
        choice = [0] * len(jobs)
        for k, answer in zip(keys, answers, strict=False):
            for c, (i, reply) in enumerate(zip(groups[k], answer, strict=False)):
                replies[i], choice[i] = reply, c
        out = []
        for job, reply, c in zip(jobs, replies, choice, strict=False):
            kind = "llm-new" if job.kind == "new" or job.parent is None else "llm-mutate"
            call = {
                "round": job.round,
                "iteration": job.iteration,
                "slot": job.slot,
                "kind": kind,
                "model": self.cfg.model,
                "choice": c,
            } | reply.record()
            if reply.text is None:
                out.append(
                    Proposal(job, None, kind, error=f"request failed: {reply.error}", calls=[call])
                )
                continue
            code = extract_code(reply.text, self.cfg.extract)
            if code is None:
                out.append(Proposal(job, None, kind, error="reply has no code", calls=[call]))
                continue
            out.append(Proposal(job, code, kind, calls=[call], reply=reply.text))
        return out
