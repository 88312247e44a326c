// A long-lived Node.js process that runs redis-sessions 4.0.0 operations for the Python
// interop tests, speaking JSON lines on stdin/stdout.
//
// Request:  {"id": 1, "op": "open", "name": "plain", "options": {"host", "port", "namespace",
//            "cachetime", "wipe"}}       -> opens a RedisSessions instance, connected and
//                                           (with cachetime) subscribed before it answers
//           {"id": 2, "op": "call", "name": "plain", "method": "get", "args": {...}}
//                                        -> the method's resolved value
//           {"id": 3, "op": "close", "name": "plain"}
// Reply:    {"id": 1, "ok": <value or null>} or {"id": 1, "error": {"name", "message"}}
//
// Requests run concurrently; replies carry the request id. stdin closing ends the process
// after every instance has quit.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const RedisSessions = require("redis-sessions").default;

const METHODS = new Set([
  "create", "get", "set", "kill", "killsoid", "killall", "activity", "soid", "soapp",
  "ping", "_wipe",
]);
const instances = new Map();

async function open(name, options) {
  if (instances.has(name)) {
    throw new Error(`instance ${name} is already open`);
  }
  // `wipe: 0` turns the original's timer off: tests run its wipe pass on demand.
  const rs = new RedisSessions({ wipe: 0, ...options });
  // Without an 'error' listener node-redis throws (and this process dies) when Redis goes
  // away, for example when a test restarts it; with one, it reconnects.
  for (const client of [rs.redis, rs.redissub]) {
    client?.on("error", (error) => process.stderr.write(`${name}: ${error.message}\n`));
  }
  instances.set(name, rs);
  await rs.ping();
  await rs.toSubscribe;
  return null;
}

async function close(name) {
  const rs = instances.get(name);
  if (!rs) {
    return null;
  }
  instances.delete(name);
  await rs.quit();
  // quit() leaves the cache subscriber connected; close it so the process can end.
  if (rs.redissub) {
    await rs.redissub.quit();
  }
  return null;
}

async function call(name, method, args) {
  const rs = instances.get(name);
  if (!rs) {
    throw new Error(`no instance named ${name}`);
  }
  if (!METHODS.has(method)) {
    throw new Error(`unsupported method ${method}`);
  }
  const result = method === "_wipe" || method === "ping" ? await rs[method]() : await rs[method](args);
  return result === undefined ? null : result;
}

async function handle(request) {
  switch (request.op) {
    case "open":
      return open(request.name, request.options);
    case "close":
      return close(request.name);
    case "call":
      return call(request.name, request.method, request.args ?? {});
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

function reply(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  if (!line.trim()) {
    return;
  }
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    reply({ id: null, error: { name: "BadRequest", message: "not a JSON line" } });
    return;
  }
  handle(request).then(
    (ok) => reply({ id: request.id, ok }),
    (error) => reply({ id: request.id, error: { name: error.name, message: error.message } }),
  );
});
lines.on("close", async () => {
  await Promise.allSettled([...instances.keys()].map(close));
  process.exit(0);
});
