// One round of the core benchmark for the Node.js original (redis-sessions 4.0.0), the
// workload of its README: 1000 concurrent creates, 1000 concurrent gets of them, then
// 2000 sequential awaited gets, then killall of the 1000. Prints one JSON line of timings.
//
// Usage: node bench_core.mjs <port> <app> [n=1000] [sequential=2000] [warmup=200]
// Run it pinned to the same CPU as redis-server (bench/core.py does, with taskset).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const RedisSessions = require("redis-sessions").default;

const [port, app, n = "1000", sequential = "2000", warmup = "200"] = process.argv.slice(2);

function ms(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function workload(rs, count, gets) {
  const timings = {};
  let start = process.hrtime.bigint();
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) => rs.create({ app, id: `bulkuser_${i}`, ip: "127.0.0.1" })),
  );
  timings.create_ms = ms(start);
  const tokens = created.map((c) => c.token);

  start = process.hrtime.bigint();
  const sessions = await Promise.all(tokens.map((token) => rs.get({ app, token })));
  timings.get_ms = ms(start);
  if (sessions.some((s, i) => s === null || s.id !== `bulkuser_${i}`)) {
    throw new Error("a get returned the wrong session");
  }

  const latencies = [];
  for (let i = 0; i < gets; i++) {
    const t = process.hrtime.bigint();
    const s = await rs.get({ app, token: tokens[i % tokens.length] });
    latencies.push(Number(process.hrtime.bigint() - t) / 1e3);
    if (s === null) {
      throw new Error("a sequential get returned null");
    }
  }
  timings.sequential_us = latencies;

  start = process.hrtime.bigint();
  const killed = await rs.killall({ app });
  timings.killall_ms = ms(start);
  if (killed.kill !== count) {
    throw new Error(`killall removed ${killed.kill} of ${count}`);
  }
  return timings;
}

const rs = new RedisSessions({ host: "127.0.0.1", port: Number(port), wipe: 0 });
await rs.ping();
await workload(rs, Number(warmup), Number(warmup));
const timings = await workload(rs, Number(n), Number(sequential));
await rs.quit();
process.stdout.write(JSON.stringify(timings) + "\n");
