// One wipe pass of the Node original (redis-sessions 4.0.0's `_wipe`), timed.
//   node bench/node_wipe.mjs <port> [namespace]
// Prints {"started": true} when the pass starts and {"seconds": <duration of the awaited
// _wipe()>} when it is done, one JSON line each on stdout. Used by bench/wipe.py.
import { createRequire } from "node:module";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const RedisSessions = require("redis-sessions").default;

const port = Number(process.argv[2]);
const namespace = process.argv[3] ?? "rs";
// `wipe: 0` turns the original's timer off; the pass is run once, on demand.
const rs = new RedisSessions({ host: "127.0.0.1", port, namespace, wipe: 0 });
await rs.ping(); // connect first, so the timing is the wipe's alone
console.log(JSON.stringify({ started: true }));
const started = process.hrtime.bigint();
await rs._wipe();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await rs.quit();
console.log(JSON.stringify({ seconds }));
