"""The Lua scripts, each loaded once per process with the shared prelude in front.

Scripts run as EVALSHA; a server that answers NOSCRIPT (restarted or flushed) gets the source
with SCRIPT LOAD and the call again. One path for single calls and pipelines alike: redis-py's
`Script` objects would add a SCRIPT EXISTS round trip to every pipeline they join.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class LuaScript:
    name: str
    source: str
    sha: str


@cache
def script(name: str) -> LuaScript:
    """`lua/{name}.lua` behind the prelude (`lua/_remove_session.lua`)."""
    folder = resources.files(__package__).joinpath("lua")
    prelude = folder.joinpath("_remove_session.lua").read_text("utf-8")
    source = prelude + "\n" + folder.joinpath(f"{name}.lua").read_text("utf-8")
    return LuaScript(name, source, hashlib.sha1(source.encode()).hexdigest())  # noqa: S324
