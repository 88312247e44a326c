"""Drive the Node.js redis-sessions 4.0.0 package from Python through `node/driver.mjs`.

One long-lived `node` process runs every request; `NodeSessions` wraps one RedisSessions
instance inside it with the same keyword arguments the Node API takes.
"""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "node"
DRIVER = NODE_DIR / "driver.mjs"
PACKAGE = NODE_DIR / "node_modules" / "redis-sessions" / "package.json"
REPLY_TIMEOUT = 15.0


class NodeError(Exception):
    """An operation failed inside Node; `.name` is the JavaScript error's name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


class NodeDriver:
    """The `node driver.mjs` child process; one request at a time per caller."""

    def __init__(self, node: str, stderr: IO[bytes]) -> None:
        self._process = subprocess.Popen(
            [node, str(DRIVER)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._replies: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="node-driver", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._replies.put(line)
        self._replies.put("")  # end of output: Node exited

    def request(self, op: str, **fields: Any) -> Any:
        assert self._process.stdin is not None
        with self._lock:
            request_id = next(self._ids)
            line = json.dumps({"id": request_id, "op": op, **fields}, ensure_ascii=False)
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
            while True:
                try:
                    raw = self._replies.get(timeout=REPLY_TIMEOUT)
                except queue.Empty:
                    raise TimeoutError(f"Node did not answer {op} in {REPLY_TIMEOUT} s") from None
                if not raw:
                    raise RuntimeError(f"Node exited with code {self._process.wait()}")
                message = json.loads(raw)
                if message["id"] == request_id:
                    break
        if "error" in message:
            raise NodeError(message["error"]["name"], message["error"]["message"])
        return message["ok"]

    def open(self, name: str, **options: Any) -> NodeSessions:
        self.request("open", name=name, options=options)
        return NodeSessions(self, name)

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class NodeSessions:
    """One Node RedisSessions instance; methods take the Node API's option names."""

    def __init__(self, driver: NodeDriver, name: str) -> None:
        self._driver = driver
        self.name = name

    def _call(self, method: str, args: dict[str, Any] | None = None) -> Any:
        return self._driver.request("call", name=self.name, method=method, args=args or {})

    def create(self, **args: Any) -> Any:
        return self._call("create", args)

    def get(self, **args: Any) -> Any:
        return self._call("get", args)

    def set(self, **args: Any) -> Any:
        return self._call("set", args)

    def kill(self, **args: Any) -> Any:
        return self._call("kill", args)

    def killsoid(self, **args: Any) -> Any:
        return self._call("killsoid", args)

    def killall(self, **args: Any) -> Any:
        return self._call("killall", args)

    def activity(self, **args: Any) -> Any:
        return self._call("activity", args)

    def soid(self, **args: Any) -> Any:
        return self._call("soid", args)

    def soapp(self, **args: Any) -> Any:
        return self._call("soapp", args)

    def wipe(self) -> None:
        """The original's wipe pass (`_wipe`, normally run by its timer)."""
        self._call("_wipe")
