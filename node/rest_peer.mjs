// The Node alternative to our REST API, for bench/rest.py: rest-sessions' routes (its app.coffee)
// on Express, around redis-sessions 4.0.0, under /api/v1 like ours.
//
//   PORT=8001 REDIS_URL=redis://127.0.0.1:6379/0 [RS_NAMESPACE=rs] node node/rest_peer.mjs
//
// What a user would write for 4.0.0 (rest-sessions only works before it): the promise API,
// numbers in query strings parsed with parseInt first (4.0.0 adds a string ttl to the time as
// text), validation errors as 400 {name, message} instead of rest-sessions' 500, an unknown
// session as {}. No access log, no ETag and no keys: rest-sessions has no keys, and the rest
// would only slow the peer down.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const express = require("express");
const RedisSessions = require("redis-sessions").default;

const VALIDATION = new Set(["missingParameter", "invalidFormat", "invalidValue"]);

const rs = new RedisSessions({
  namespace: process.env.RS_NAMESPACE ?? "rs",
  options: { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0" },
  wipe: 0,
});
rs.redis.on("error", (error) => process.stderr.write(`redis: ${error.message}\n`));

const app = express();
app.disable("x-powered-by");
// No ETag: hashing every answer is of no use for session reads and only slows the peer.
app.set("etag", false);
app.use(express.json({ limit: 60000 }));

// A query number as the original validates it (parseInt): absent or empty stays undefined
// (the default applies); text without a number is passed on as it is, for the original's
// own message (NaN would pass its check, which reads a falsy ttl as the default).
const int = (value) => {
  if (value === undefined || value === "") return undefined;
  const number = Number.parseInt(`${value}`, 10);
  return Number.isNaN(number) ? `${value}` : number;
};

const route = (handler) => async (req, res) => {
  try {
    const result = await handler(req);
    res.json(result ?? {});
  } catch (error) {
    const status = VALIDATION.has(error.name) ? 400 : 503;
    res.status(status).json({ name: error.name, message: error.message });
  }
};

const api = express.Router();
api.get("/ping", route(() => rs.ping()));
api.put(
  "/:app/create/:id",
  route((req) => {
    const body = req.body ?? {};
    const options = { app: req.params.app, id: req.params.id, ip: req.query.ip };
    const ttl = int(req.query.ttl);
    if (ttl !== undefined) options.ttl = ttl;
    if (Object.keys(body).length > 0) options.d = body;
    return rs.create(options);
  }),
);
api.get("/:app/get/:token", route((req) => rs.get({ app: req.params.app, token: req.params.token })));
api.post(
  "/:app/set/:token",
  route((req) => rs.set({ app: req.params.app, token: req.params.token, d: req.body })),
);
api.get("/:app/activity", route((req) => rs.activity({ app: req.params.app, deltaTime: int(req.query.dt) })));
api.get("/:app/soapp", route((req) => rs.soapp({ app: req.params.app, deltaTime: int(req.query.dt) })));
api.get("/:app/soid/:id", route((req) => rs.soid({ app: req.params.app, id: req.params.id })));
api.delete("/:app/kill/:token", route((req) => rs.kill({ app: req.params.app, token: req.params.token })));
api.delete("/:app/killsoid/:id", route((req) => rs.killsoid({ app: req.params.app, id: req.params.id })));
api.delete("/:app/killall", route((req) => rs.killall({ app: req.params.app })));
app.use("/api/v1", api);

const port = Number.parseInt(process.env.PORT ?? "8001", 10);
const server = app.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
});
// A benchmark peer: nothing to finish on a signal (and rs.quit() would wait forever for a
// Redis that never answered).
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
