// The Node.js side of bench/core.py, for the original (redis-sessions 4.0.0): the workload of
// its README (n concurrent creates, n concurrent gets of them, `sequential` awaited gets, then
// killall of the n), run once untimed as warm-up and then `passes` timed passes, all in this
// one process. bench/core_python.py does the same for this project, step for step.
// Prints one JSON line: {"passes": [{figures of a pass}, ...]}.
//
// Per pass: wall time of each batch (ms), every sequential latency (us), and per step the
// Redis-side time (below), reset just before the step and read just after, outside the timed
// window.
//
// Usage: node bench_core.mjs <port> <app> [n=1000] [sequential=2000] [passes=5]
// Run it pinned to the same CPU as redis-server (bench/core.py does, with taskset).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const RedisSessions = require("redis-sessions").default;

const [port, app, n = "1000", sequential = "2000", passes = "5"] = process.argv.slice(2);

function ms(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// Redis-side time of a step: the usec of the commands this client sent (INFO commandstats,
// reset by CONFIG RESETSTAT) and the server's CPU time (INFO cpu). Commands queued in a MULTI
// are inside EXEC's time, and commandstats counts them a second time under their own names,
// so only the commands 4.0.0's create/get/killall send outside a MULTI are summed.
const TOP_LEVEL = new Set(["multi", "exec", "hmget", "zrange"]);

async function info(rs, section) {
  return await rs.redis.sendCommand(["INFO", section]);
}

async function serverCpu(rs) {
  const text = await info(rs, "cpu");
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(text)[1]);
  return field("used_cpu_user") + field("used_cpu_sys");
}

let cpuAtReset = 0;

async function resetStats(rs) {
  await rs.redis.sendCommand(["CONFIG", "RESETSTAT"]);
  cpuAtReset = await serverCpu(rs);
}

async function redisUsec(rs) {
  const cpu = (await serverCpu(rs)) - cpuAtReset;
  let commands = 0;
  for (const line of (await info(rs, "commandstats")).split("\r\n")) {
    const match = /^cmdstat_([^:]+):calls=\d+,usec=(\d+),/.exec(line);
    if (match && TOP_LEVEL.has(match[1])) {
      commands += Number(match[2]);
    }
  }
  return { commands, cpu: Math.round(cpu * 1e6) };
}

async function pass(rs, count, gets) {
  const figures = { redis_us: {} };
  await resetStats(rs);
  let start = process.hrtime.bigint();
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) => rs.create({ app, id: `bulkuser_${i}`, ip: "127.0.0.1" })),
  );
  figures.create_ms = ms(start);
  figures.redis_us.create = await redisUsec(rs);
  const tokens = created.map((c) => c.token);

  await resetStats(rs);
  start = process.hrtime.bigint();
  const sessions = await Promise.all(tokens.map((token) => rs.get({ app, token })));
  figures.get_ms = ms(start);
  figures.redis_us.get = await redisUsec(rs);
  if (sessions.some((s, i) => s === null || s.id !== `bulkuser_${i}`)) {
    throw new Error("a get returned the wrong session");
  }

  const latencies = [];
  await resetStats(rs);
  for (let i = 0; i < gets; i++) {
    const t = process.hrtime.bigint();
    const s = await rs.get({ app, token: tokens[i % tokens.length] });
    latencies.push(Number(process.hrtime.bigint() - t) / 1e3);
    if (s === null) {
      throw new Error("a sequential get returned null");
    }
  }
  figures.redis_us.sequential_get = await redisUsec(rs);
  figures.sequential_get_us = latencies;

  await resetStats(rs);
  start = process.hrtime.bigint();
  const killed = await rs.killall({ app });
  figures.killall_ms = ms(start);
  figures.redis_us.killall = await redisUsec(rs);
  if (killed.kill !== count) {
    throw new Error(`killall removed ${killed.kill} of ${count}`);
  }
  return figures;
}

const rs = new RedisSessions({ host: "127.0.0.1", port: Number(port), wipe: 0 });
await rs.ping();
await pass(rs, Number(n), Number(sequential)); // warm-up: the whole workload, untimed
const timed = [];
for (let i = 0; i < Number(passes); i++) {
  timed.push(await pass(rs, Number(n), Number(sequential)));
}
await rs.quit();
process.stdout.write(JSON.stringify({ passes: timed }) + "\n");
