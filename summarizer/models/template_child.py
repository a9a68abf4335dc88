"""The child process of ``models.chat_template``: renders one chat template, bounded.

Run as a script (``python -I template_child.py SECONDS BYTES CHARS``), it reads one JSON
request on stdin (the template, its variables, the conversations to render) and
writes one JSON list on stdout: for each conversation ``{"text": ...}`` or
``{"error": ...}``. Its address space and CPU time are capped before the template is
compiled, and no rendering may grow past CHARS characters; the template runs in
jinja's immutable sandbox, with the helpers transformers gives chat templates
(``raise_exception``, ``strftime_now``, ``tojson``, ``namespace``, ``dict`` and the
``generation`` block). It imports nothing but the standard library and jinja2.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
from datetime import datetime
from typing import Any, Iterable


def _limit(seconds: int, memory: int) -> None:
    # A stop is the parent's to honour (its rendering is bounded anyway): a SIGTERM sent to
    # the whole service must not turn into a template error.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))


def _environment() -> Any:
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generation(jinja2.ext.Extension):
        """``{% generation %}...{% endgeneration %}`` (a training marker) renders its body."""

        tags = {"generation"}

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller: Any) -> str:
            return caller()

    class Namespace(jinja2.utils.Namespace):
        """A namespace that stores no underscore-prefixed attribute."""

        def __init__(*args: Any, **kwargs: Any) -> None:
            self, rest = args[0], args[1:]
            attributes = dict(*rest, **kwargs)
            for name in attributes:
                Namespace._check(name)
            jinja2.utils.Namespace.__init__(self, attributes)

        def __setitem__(self, name: str, value: Any) -> None:
            Namespace._check(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name: Any) -> None:
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(f"a namespace cannot hold {name!r}")

    class Dict:
        """``dict(...)`` and ``dict.fromkeys(...)`` without the class itself."""

        def __call__(self, *args: Any, **kwargs: Any) -> dict:
            return dict(*args, **kwargs)

        def fromkeys(self, *args: Any, **kwargs: Any) -> dict:
            return dict.fromkeys(*args, **kwargs)

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(value: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None, sort_keys: bool = False) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[Generation, jinja2.ext.loopcontrols]
    )
    environment.filters["tojson"] = tojson
    environment.globals.update(
        raise_exception=raise_exception,
        strftime_now=lambda format: datetime.now().strftime(format),
        dict=Dict(),
        namespace=Namespace,
    )
    return environment


def _joined(pieces: Iterable[str], limit: int) -> str:
    parts, size = [], 0
    for piece in pieces:
        size += len(piece)
        if size > limit:
            raise ValueError(f"the rendered prompt grew past {limit} characters")
        parts.append(piece)
    return "".join(parts)


def _error(exc: BaseException, memory: int) -> dict[str, str]:
    if isinstance(exc, MemoryError):
        return {"error": f"MemoryError: rendering needs more than {memory >> 20} MB"}
    return {"error": " ".join(f"{type(exc).__name__}: {exc}".split())[:300]}


def main(argv: list[str]) -> None:
    seconds, memory, limit = (int(value) for value in argv)
    _limit(seconds, memory)
    request = json.loads(sys.stdin.read())
    try:
        template = _environment().from_string(request["template"])
    except Exception as exc:  # noqa: BLE001 - a template that does not compile fails every rendering
        results = [_error(exc, memory)] * len(request["conversations"])
    else:
        results = []
        for conversation in request["conversations"]:
            variables = {**request["variables"], **conversation}
            try:
                results.append({"text": _joined(template.generate(**variables), limit)})
            except Exception as exc:  # noqa: BLE001 - whatever the template raises is its own error
                results.append(_error(exc, memory))
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
