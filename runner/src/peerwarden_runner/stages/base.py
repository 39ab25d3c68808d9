"""What a stage is, declared rather than guessed.

Every stage of the pipeline is a `Stage` subclass whose class attributes say what it is:

- `kind`: a ROUTE stage judges the routes of a decoded UPDATE (`update(state, direction, change)`);
  a MESSAGE stage takes a whole message and answers the messages that replace it (`message`, and
  `message_async` when it `awaits` an answer); a WATCHER sees every message as it is written on
  (`crossed(state, direction, raw)`) and never changes one.
- `awaits`: the stage waits for an answer (an exec filter), which makes the pipeline asynchronous.
- `watch_ok`: the stage may run on a speaker's monitor, which passes nothing on (`watch_refusal`
  says why not when it may not).
- `needs_wait_closed`: after `close()`, `wait_closed()` must be awaited (it stops something outside:
  a program, the alert sinks).
- `scope`: how many the runner makes: one for the whole runner (RUNNER: rpki's VRPs), one per
  session shared by its directions (SESSION), or one per place it is listed (USE).

A stage with a configuration section also owns it: `schema()` is its section's part of the runner's
JSON Schema (structure and types, checked first, schema.py), `check(section, problem)` checks the
meaning and normalises its top-level section (problems name the key path), and `build(section, context)` makes the stage
from the checked section. stages/registry.py maps section names to these classes.
"""

import asyncio
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

Problem = Callable[[str, str], None]  # problem(key path, what is wrong)


class Kind(enum.Enum):
    ROUTE = "route"
    MESSAGE = "message"
    WATCHER = "watcher"


class Scope(enum.Enum):
    RUNNER = "runner"
    SESSION = "session"
    USE = "use"


@dataclass
class BuildContext:
    """What a stage is built for: the session (or speaker) using it, and what the runner shares."""

    metrics: Any = None
    session_name: str = "session"
    role: str | None = None
    shared: dict[str, Any] = field(default_factory=dict)  # runner-wide objects (the alert sinks)


class Stage:
    """Defaults for the hooks a stage does not need, and for the declarations."""

    name: ClassVar[str] = "stage"
    kind: ClassVar[Kind] = Kind.ROUTE
    awaits: bool = False  # a class attribute, or set per instance (exec: by its mode)
    watch_ok: ClassVar[bool] = False
    watch_refusal: ClassVar[str] = ""
    needs_wait_closed: ClassVar[bool] = False
    scope: ClassVar[Scope] = Scope.USE

    # ---- configuration: a stage with a section overrides these ----

    @classmethod
    def schema(cls) -> dict[str, Any] | None:
        """The JSON Schema of the stage's top-level section (schema.py has the builders); None: no section."""
        return None

    @classmethod
    def check(cls, section: Any, problem: Problem) -> Any:
        """The stage's top-level section normalised (None when absent), every problem reported."""
        return section

    @classmethod
    def check_watch(cls, section: Any, field: str, problem: Problem) -> None:
        """Problems of running this (watch_ok) stage with `section` on a speaker, reported under `field`."""

    @classmethod
    def check_users(
        cls, section: Any, users: Sequence[tuple[str, dict[str, Any], Sequence[str]]], problem: Problem
    ) -> None:
        """Problems of the sessions and speakers using the stage: (key, entry, stage names) of each."""

    @classmethod
    def check_config(cls, config: dict[str, Any], problem: Problem) -> None:
        """Problems between the stage's checked section and the others' (config[name] of each stage)."""

    @classmethod
    def build(cls, section: Any, context: BuildContext) -> "Stage":
        raise NotImplementedError("%s has no configuration section to build from" % cls.__name__)

    @classmethod
    def build_all(cls, section: Any, context: BuildContext) -> list["Stage"]:
        """The stages a section makes for one session (a watcher section may make more than one)."""
        return [cls.build(section, context)]

    # ---- life ----

    def bind(self, context: BuildContext) -> "Stage":
        """The stage a session lists, for a RUNNER stage: itself, or a view bound to the session (aspa: its role)."""
        return self

    async def start(self) -> list["asyncio.Task[Any]"]:
        """Before the first session (RUNNER stages): load what is needed; the tasks that keep it current."""
        return []

    def session_started(self, state: Any) -> None:
        pass

    def session_ended(self, state: Any) -> None:
        pass

    def close(self) -> None:
        pass

    async def wait_closed(self) -> None:
        """After close(), for a stage that `needs_wait_closed`."""


class MessageStage(Stage):
    """A stage on whole messages: `message(state, direction, raw)` -> the messages that replace it."""

    kind = Kind.MESSAGE

    def message(self, state: Any, direction: str, raw: bytes) -> list[bytes]:
        return [raw]

    async def message_async(self, state: Any, direction: str, raw: bytes) -> list[bytes]:
        return self.message(state, direction, raw)


class Watcher(Stage):
    """A stage that sees every message as it is written on: `crossed(state, direction, raw)`."""

    kind = Kind.WATCHER

    def crossed(self, state: Any, direction: str, raw: bytes) -> None:
        pass
