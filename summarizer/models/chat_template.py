"""Chat templates rendered by the job's own sandboxed code, bounded in time and memory.

A model's chat template is code that came with the model (a GGUF file, a hub
repository). It is never given an article: the job renders its prompt once per
framing with a marker where the text goes (``models.prompts``). And it runs in a
process of its own (``models.template_child``) under jinja's immutable sandbox, with
at most ``RENDER_SECONDS`` of time, ``RENDER_MEMORY_BYTES`` of address space and
``RENDER_CHARS`` characters of output: a template that loops, grows without bound or
reaches for what the sandbox refuses fails with its own message, in well under the
grace period a stop request allows (``stopping``), and the job refuses the model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

#: Wall-clock seconds one batch of renderings may take (a real template needs milliseconds;
#: most of this is for starting a Python process on a busy machine).
RENDER_SECONDS = 10
RENDER_MEMORY_BYTES = 1 << 30
RENDER_CHARS = 1 << 20
_CHILD = Path(__file__).with_name("template_child.py")

Messages = tuple[tuple[str, str], ...]
"""(role, content) pairs."""


@dataclass(frozen=True)
class Conversation:
    """One rendering: the messages, and whether the template adds the assistant's turn header."""

    messages: Messages
    generation_prompt: bool = True


@dataclass(frozen=True)
class Rendered:
    """A rendering's text, or why the template could not render it."""

    text: str | None = None
    error: str | None = None


def template_variables(tokenizer: Any) -> dict[str, Any]:
    """What a chat template sees besides the messages, as transformers passes it: the
    tokenizer's special tokens, no tools and no documents; and thinking switched off
    (Qwen3's switch)."""
    variables: dict[str, Any] = {"tools": None, "documents": None}
    for name, value in dict(getattr(tokenizer, "special_tokens_map", None) or {}).items():
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            variables[name] = value
    variables["enable_thinking"] = False
    return variables


def chat_template_source(tokenizer: Any) -> str | None:
    """The tokenizer's default chat template (None without one)."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default")
    return template if isinstance(template, str) and template else None


def render_conversations(template: str, variables: Mapping[str, Any], conversations: Sequence[Conversation]) -> list[Rendered]:
    """Each conversation rendered by ``template``, in one bounded child process; a
    template that fails, loops or outgrows the bounds gives every rendering it did not
    finish the reason."""
    request = {
        "template": template,
        "variables": dict(variables),
        "conversations": [
            {
                "messages": [{"role": role, "content": content} for role, content in conversation.messages],
                "add_generation_prompt": conversation.generation_prompt,
            }
            for conversation in conversations
        ],
    }
    command = [sys.executable, "-I", str(_CHILD), str(RENDER_SECONDS), str(RENDER_MEMORY_BYTES), str(RENDER_CHARS)]
    try:
        finished = subprocess.run(
            command, input=json.dumps(request), capture_output=True, text=True, timeout=RENDER_SECONDS,
            check=False, start_new_session=True
        )
    except subprocess.TimeoutExpired:
        return [Rendered(error=f"rendering took longer than {RENDER_SECONDS} s (a loop?)")] * len(conversations)
    except OSError as exc:
        return [Rendered(error=f"cannot start the template renderer ({exc})")] * len(conversations)
    try:
        results = json.loads(finished.stdout)
        if not isinstance(results, list) or len(results) != len(conversations):
            raise ValueError("unexpected answer")
        return [Rendered(item.get("text"), item.get("error")) for item in results]
    except (ValueError, AttributeError):
        return [Rendered(error=_child_failure(finished))] * len(conversations)


def _child_failure(finished: subprocess.CompletedProcess[str]) -> str:
    """Why the child gave no answer, in a few words."""
    if finished.returncode < 0:
        # RLIMIT_CPU ends it with SIGXCPU (or SIGKILL past the hard limit)
        return f"rendering was stopped (signal {-finished.returncode}: out of time or memory)"
    last = next((line for line in reversed(finished.stderr.splitlines()) if line.strip()), "no output")
    if "MemoryError" in finished.stderr:
        return f"rendering needs more than {RENDER_MEMORY_BYTES >> 20} MB"
    return f"the template renderer failed ({' '.join(last.split())[:200]})"
