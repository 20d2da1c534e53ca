"""Any OpenAI-compatible chat-completions endpoint: prompts, retries, concurrency, tokens.

Works with OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio: anything that
speaks ``POST /v1/chat/completions``. Transient failures (timeouts, 5xx, 429,
dropped connections) are retried with exponential backoff; a request that
still fails is recorded and dropped, except when the endpoint could never be
reached or refuses us (bad key, unknown model): that is the user's setup, and
ends the run with one line.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from primordium.errors import ConfigError, PrimordiumError, read_text_file
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
        return {"ok": self.text is not None, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "tokens_estimated": self.tokens_estimated,
                "attempts": self.attempts, "seconds": round(self.seconds, 3), "error": self.error,
                "reply": self.text}


# -- prompts ----------------------------------------------------------------

PROMPT_FILES = {"system": "system.md", "new": "new.md", "mutate": "mutate.md"}


def default_prompt(kind: str) -> str:
    return resources.files("primordium.redqueen").joinpath("prompts", PROMPT_FILES[kind]).read_text("utf-8")


@dataclass(frozen=True)
class Prompts:
    system: str
    new: str
    mutate: str

    @classmethod
    def load(cls, cfg: LLMConfig) -> "Prompts":
        def one(kind: str, path: str | None) -> str:
            return read_text_file(Path(path).expanduser()) if path else default_prompt(kind)

        return cls(one("system", cfg.system_prompt), one("new", cfg.new_prompt), one("mutate", cfg.mutate_prompt))

    def fill(self, text: str, values: dict[str, Any]) -> str:
        # Plain replacement of {name} for known names only: Redcode and
        # examples in a user's prompt may hold braces of their own.
        for k, v in values.items():
            text = text.replace("{" + k + "}", str(v))
        return text


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)


def extract_code(reply: str) -> str | None:
    """The Redcode in a reply: the first fenced block tagged redcode/red/asm, else the first block."""
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(reply or "")]
    if not blocks:
        return None
    for tag, body in blocks:
        if tag in ("redcode", "red", "asm", "assembly", "nasm"):
            return body.strip("\n") + "\n"
    return blocks[0][1].strip("\n") + "\n"


# -- the client ---------------------------------------------------------------


def resolve_key(cfg: LLMConfig, api_key: str | None) -> str:
    if api_key:
        return api_key
    key = os.environ.get(cfg.api_key_env)
    # Local servers (vLLM, Ollama, llama.cpp) ignore the key but the client wants one.
    return key or "not-needed"


class LLMClient:
    """Chat completions with timeouts, retries with backoff and a pool of concurrent requests."""

    def __init__(self, cfg: LLMConfig, api_key: str | None = None):
        try:
            import openai
        except ImportError:
            raise ConfigError("operator 'llm' needs the 'llm' extra: pip install 'primordium[llm]'") from None
        self.cfg = cfg
        self._openai = openai
        base = cfg.base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.base_url = base or "https://api.openai.com/v1"
        # Retries are ours (so every attempt is counted and logged), not the client's.
        self.client = openai.OpenAI(api_key=resolve_key(cfg, api_key), base_url=base, timeout=cfg.timeout,
                                    max_retries=0)

    def check(self) -> None:
        """Fail fast, before a run starts, when the endpoint cannot be reached or refuses the key.

        Any HTTP answer other than 401/403 counts as reachable: not every
        server lists its models.
        """
        o = self._openai
        last = None
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                time.sleep(self.cfg.backoff * 2 ** (attempt - 1))
            try:
                self.client.with_options(timeout=min(self.cfg.timeout, 30.0)).models.list()
                return
            except o.APITimeoutError:
                return  # it answered the connection; slowness is handled per request
            except o.APIConnectionError as e:
                last = e
                continue
            except (o.AuthenticationError, o.PermissionDeniedError) as e:
                raise LLMError(f"LLM endpoint {self.base_url} refused the key (HTTP {e.status_code}); "
                               f"set --api-key or ${self.cfg.api_key_env}") from None
            except o.APIError:
                return
        raise LLMError(f"cannot reach LLM endpoint {self.base_url} (connection failed ({_cause(last)}))")

    def chat(self, messages: list[dict[str, str]]) -> Reply:
        o = self._openai
        t0 = time.monotonic()
        errors: list[str] = []
        reached = False
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                time.sleep(self.cfg.backoff * 2 ** (attempt - 1))
            try:
                resp = self.client.chat.completions.create(
                    model=self.cfg.model, messages=messages, temperature=self.cfg.temperature,
                    max_tokens=self.cfg.max_tokens,
                )
            except o.APITimeoutError:
                reached = True  # it connected, then was too slow
                errors.append(f"timeout after {self.cfg.timeout:g}s")
                continue
            except o.APIConnectionError as e:
                errors.append(f"connection failed ({_cause(e)})")
                continue
            except (o.AuthenticationError, o.PermissionDeniedError) as e:
                raise LLMError(f"LLM endpoint {self.base_url} refused the key (HTTP {e.status_code}); "
                               f"set --api-key or ${self.cfg.api_key_env}") from None
            except o.NotFoundError:
                raise LLMError(f"LLM endpoint {self.base_url}: model {self.cfg.model!r} or the chat-completions "
                               f"route was not found (HTTP 404)") from None
            except o.APIStatusError as e:
                reached = True
                errors.append(f"HTTP {e.status_code}")
                if e.status_code < 500 and e.status_code != 429:
                    break  # a bad request stays bad
                continue
            text = resp.choices[0].message.content if resp.choices else None
            usage = getattr(resp, "usage", None)
            reply = Reply(text=text or "", attempts=attempt + 1, seconds=time.monotonic() - t0,
                          error="; ".join(errors) or None)
            if usage is not None and usage.prompt_tokens is not None:
                reply.prompt_tokens = int(usage.prompt_tokens or 0)
                reply.completion_tokens = int(usage.completion_tokens or 0)
            else:
                reply.tokens_estimated = True
                reply.prompt_tokens = sum(len(m["content"]) for m in messages) // 4
                reply.completion_tokens = len(text or "") // 4
            return reply
        if not reached:
            raise LLMError(f"cannot reach LLM endpoint {self.base_url} ({errors[-1]})")
        return Reply(text=None, attempts=len(errors), seconds=time.monotonic() - t0, error="; ".join(errors))

    def chat_many(self, conversations: Sequence[list[dict[str, str]]]) -> list[Reply]:
        """Many requests at once (up to ``concurrency`` in flight); replies in order."""
        if not conversations:
            return []
        with ThreadPoolExecutor(max_workers=min(self.cfg.concurrency, len(conversations))) as pool:
            return list(pool.map(self.chat, conversations))


def _cause(e: BaseException) -> str:
    c = e.__cause__ or e.__context__
    while c is not None and (c.__cause__ or c.__context__) is not None:
        c = c.__cause__ or c.__context__
    return str(c or e).splitlines()[0][:200] if (c or e) else type(e).__name__


class LLMOperator:
    """The mutation operator of the paper: ask a language model to write or improve a warrior."""

    name = "llm"

    def __init__(self, cfg: LLMConfig, settings, api_key: str | None = None, client: LLMClient | None = None):
        self.cfg = cfg
        self.settings = settings
        self.prompts = Prompts.load(cfg)
        self.client = client or LLMClient(cfg, api_key)
        self.client.check()

    def _values(self) -> dict[str, Any]:
        s = self.settings
        return {"core_size": s.core_size, "cycles": s.cycles, "processes": s.processes, "length": s.length,
                "distance": s.distance}

    def messages(self, job) -> list[dict[str, str]]:
        values = self._values()
        if job.kind == "new" or job.parent is None:
            task = self.prompts.fill(self.prompts.new, values)
        else:
            task = self.prompts.fill(self.prompts.mutate, values | {"warrior": job.parent.source.strip()})
        return [{"role": "system", "content": self.prompts.fill(self.prompts.system, values)},
                {"role": "user", "content": task}]

    def propose(self, jobs):
        from primordium.redqueen.mutation import Proposal

        replies = self.client.chat_many([self.messages(j) for j in jobs])
        out = []
        for job, reply in zip(jobs, replies):
            kind = "llm-new" if job.kind == "new" or job.parent is None else "llm-mutate"
            call = {"round": job.round, "iteration": job.iteration, "slot": job.slot, "kind": kind,
                    "model": self.cfg.model} | reply.record()
            if reply.text is None:
                out.append(Proposal(job, None, kind, error=f"request failed: {reply.error}", calls=[call]))
                continue
            code = extract_code(reply.text)
            if code is None:
                out.append(Proposal(job, None, kind, error="reply has no code block", calls=[call]))
                continue
            out.append(Proposal(job, code, kind, calls=[call]))
        return out
