#!/usr/bin/env node
// The Greenroom federation gateway: Hive Gateway's runtime serving the supergraph that
// compose.mjs composes from the core, the static plugins and the plugins the core's registry
// lists, re-read every pollInterval and swapped in without dropping requests.
//
//   node gateway/server.mjs [--config FILE] [--listen HOST:PORT]
//
// One HTTP server: /graphql (queries, SSE and WebSocket subscriptions), GraphiQL at / (the
// core's offline copy), /healthz, /readyz, /gateway/status and /gateway/check. The caller's
// Authorization goes to every subgraph request. Logs go to stderr; one line goes to stdout when
// the first supergraph serves. Exit 2: bad usage or configuration. See README.md ("The gateway").

import "./node-env.mjs"; // first: before graphql-js loads
import { setMaxListeners } from "node:events";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createGatewayRuntime, getGraphQLWSOptions } from "@graphql-hive/gateway-runtime";
import { Logger } from "@graphql-hive/logger";
import { GraphQLError } from "graphql";
import { maskError } from "graphql-yoga";
import httpTransport from "@graphql-mesh/transport-http";
import { WebSocketServer } from "ws";
import { useServer } from "graphql-ws/use/ws";
import { ConfigError, loadConfig } from "./config.mjs";
import { Composer } from "./compose.mjs";
import { loadPlanner } from "./planner.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GRAPHIQL_DIR = path.join(HERE, "../internal/server/graphiql");

const MAX_BODY_BYTES = 2 << 20; // /graphql and /gateway/check request bodies
const MAX_WS_MESSAGE_BYTES = 2 << 20; // one WebSocket message
const MAX_SUBGRAPH_RESPONSE_BYTES = 16 << 20; // one subgraph answer (not a subscription stream)
const BODY_READ_TIMEOUT_MS = 10_000; // a request body must arrive within this
const DRAIN_TIMEOUT_MS = 30_000; // after a swap, operations already running finish on the old supergraph
const SHUTDOWN_TIMEOUT_MS = 10_000;

// The runtime adds an abort listener per in-flight subgraph request to one signal per subgraph
// executor; past Node's default of 10, it warns of a leak that is none.
setMaxListeners(10_000);

function log(message) {
  process.stderr.write(`${new Date().toISOString()} gateway: ${message}\n`);
}

function oneLine(value) {
  try {
    const text = JSON.stringify(value, (k, v) => (v instanceof Error ? { name: v.name, message: v.message } : v));
    return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------- configuration

function usage(code) {
  (code ? process.stderr : process.stdout).write(
    "usage: node gateway/server.mjs [--config FILE] [--listen HOST:PORT]\n"
    + "  --config FILE       the YAML configuration (default: gateway/gateway.yaml beside this script)\n"
    + "  --listen HOST:PORT  where to serve, instead of the configuration's listen (port 0: any free port)\n",
  );
  process.exit(code);
}

let args;
try {
  args = parseArgs({
    options: { config: { type: "string" }, listen: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  }).values;
} catch (err) {
  process.stderr.write(`gateway: ${err.message}\n`);
  usage(2);
}
if (args.help) usage(0);

const configFile = args.config ?? path.join(HERE, "gateway.yaml");
let config;
try {
  config = loadConfig(configFile, path.relative(process.cwd(), configFile) || configFile, { listen: args.listen });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`gateway: ${err.message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- the runtime

let supergraph = null; // the supergraph SDL serving, replaced by the composition loop

// A subgraph that cannot be reached gives Hive's SUBREQUEST_HTTP_ERROR (or GATEWAY_TIMEOUT after
// subgraphTimeout) with extensions.serviceName, and a message that says only what failed
// ("connect ECONNREFUSED …", "The operation was aborted due to timeout"). Yoga would mask it as
// "Unexpected error." since it wraps a non-GraphQL error. These keep their code and
// serviceName, and their message is prefixed with the subgraph; the subrequest's body, which
// the runtime attaches, is dropped. Every other error is masked as Yoga does.
const transportCodes = new Set(["SUBREQUEST_HTTP_ERROR", "GATEWAY_TIMEOUT", "RESPONSE_VALIDATION_FAILED"]);
function maskUnlessTransport(error, message, isDev) {
  const code = error?.extensions?.code;
  const serviceName = error?.extensions?.serviceName;
  if (!(error instanceof GraphQLError) || !transportCodes.has(code)) return maskError(error, message, isDev);
  const named = typeof serviceName !== "string" || error.message.includes(`"${serviceName}"`);
  return new GraphQLError(named ? error.message : `subgraph "${serviceName}" failed: ${error.message}`, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { code, serviceName },
  });
}

// Reads each subgraph answer other than an event stream with a cap, so that a plugin sending an
// endless answer fails its fields (SUBREQUEST_HTTP_ERROR) instead of filling the gateway's memory.
// The runtime reads these answers whole anyway.
async function cappedResponse(res, fetchAPI) {
  const type = res.headers.get("content-type") ?? "";
  if (!res.body || type.includes("text/event-stream") || type.includes("multipart/mixed")) return res;
  const tooLarge = `the answer is larger than ${MAX_SUBGRAPH_RESPONSE_BYTES} bytes`;
  if (Number(res.headers.get("content-length")) > MAX_SUBGRAPH_RESPONSE_BYTES) {
    res.body.cancel?.().catch?.(() => {});
    throw new Error(tooLarge);
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > MAX_SUBGRAPH_RESPONSE_BYTES) throw new Error(tooLarge); // leaving the loop cancels the body
    chunks.push(chunk);
  }
  return new fetchAPI.Response(Buffer.concat(chunks), { status: res.status, statusText: res.statusText, headers: res.headers });
}

// Every subgraph request but a subscription's stream: the answer read whole with the cap above,
// and all of it (connecting, the headers, the body) within subgraphTimeout, else it fails with
// GATEWAY_TIMEOUT. The runtime's own upstreamTimeout does the same with a race of promises, a
// deferred and combined abort signals per request, and the cap was a second hook: together they
// cost about 0.2–0.3 ms more per screen (README.md, "Measured").
const TIMEOUT_MESSAGE = "The operation was aborted due to timeout";
const boundedSubgraphFetch = {
  onFetch({ executionRequest, fetchFn, setFetchFn }) {
    if (!executionRequest) return; // not a subgraph request
    const timeout = isSubscription(executionRequest) ? 0 : config.subgraphTimeout;
    const serviceName = executionRequest.subgraphName;
    setFetchFn(async (url, options, ...rest) => {
      if (!timeout) return cappedResponse(await fetchFn(url, options, ...rest), gateway.fetchAPI);
      const ctrl = new AbortController();
      const outer = options?.signal; // the client's request, gone or cancelled
      const forward = () => ctrl.abort(outer.reason);
      if (outer?.aborted) forward();
      else outer?.addEventListener("abort", forward, { once: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ctrl.abort(new DOMException(TIMEOUT_MESSAGE, "TimeoutError"));
      }, timeout);
      try {
        return await cappedResponse(await fetchFn(url, { ...options, signal: ctrl.signal }, ...rest), gateway.fetchAPI);
      } catch (err) {
        if (!timedOut) throw err;
        throw new GraphQLError(TIMEOUT_MESSAGE, { extensions: { code: "GATEWAY_TIMEOUT", serviceName, http: { status: 504 } } });
      } finally {
        clearTimeout(timer);
        outer?.removeEventListener("abort", forward);
      }
    });
  },
};

// The runtime logs every error it masks or passes on. A subgraph that is down would fill the log
// with one line per query (each with the subrequest's body): those are logged once a minute per
// subgraph and code, with how many were left out.
const quiet = new Map(); // "subgraph code" → {at, skipped}
function runtimeLog(level, attrs, msg) {
  const code = attrs?.extensions?.code;
  if (transportCodes.has(code)) {
    const key = `${attrs.extensions.serviceName} ${code}`;
    const seen = quiet.get(key);
    const now = Date.now();
    if (seen && now - seen.at < 60_000) {
      seen.skipped++;
      return;
    }
    quiet.set(key, { at: now, skipped: 0 });
    const more = seen?.skipped ? ` (and ${seen.skipped} more since the last such line)` : "";
    return log(`subgraph ${attrs.extensions.serviceName} failed a request: ${attrs.message} [${code}]${more}`);
  }
  log(`hive ${level}: ${msg ?? ""}${attrs ? ` ${oneLine(attrs)}` : ""}`);
}

let planner;
try {
  planner = await loadPlanner();
} catch (err) {
  process.stderr.write(`gateway: ${err.message}\n`);
  process.exit(2);
}
if (planner.note) log(`query planner: the runtime's stitching planner (${planner.note})`);

const gateway = createGatewayRuntime({
  supergraph: () => supergraph,
  ...planner.options,
  transports: { http: httpTransport },
  // POST for every operation: the core serves SSE subscriptions (graphql-sse distinct
  // connections) to POST with Accept: text/event-stream, which is what the HTTP transport sends
  // for a subscription. No deduplication of identical requests in flight: it deep-copies every
  // subgraph answer (structuredClone) for the rare query that a caller sends twice at once.
  transportEntries: { "*": { options: { method: "POST", deduplicateInflightRequests: false } } },
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => {
      const authorization = request?.headers?.get("authorization");
      return authorization ? { authorization } : {};
    },
  },
  maskedErrors: { maskError: maskUnlessTransport },
  gracefulSchemaReload: { drainTimeout: DRAIN_TIMEOUT_MS },
  graphiql: false, // Hive's loads from a CDN; ours (the core's, offline) is served at / and /graphiql
  landingPage: false,
  // The runtime's own warnings and errors, one line each on stderr like ours.
  logging: new Logger({
    level: "warn",
    writers: [{ write: runtimeLog }],
  }),
  plugins: () => [boundedSubgraphFetch, ...planner.plugins],
});

function isSubscription(executionRequest) {
  if (executionRequest?.operationType) return executionRequest.operationType === "subscription";
  const doc = executionRequest?.document;
  const ops = doc?.definitions?.filter((d) => d.kind === "OperationDefinition") ?? [];
  const op = executionRequest?.operationName ? ops.find((o) => o.name?.value === executionRequest.operationName) : ops[0];
  return op?.operation === "subscription";
}

// ---------------------------------------------------------------- composition

const composer = new Composer(config, {
  log,
  // Hands the runtime a new supergraph. Operations running finish on the one they started with
  // (gracefulSchemaReload); open subscriptions end with a SCHEMA_RELOAD error (README.md).
  async swap(sdl) {
    const previous = supergraph;
    supergraph = sdl;
    try {
      await gateway.invalidateUnifiedGraph();
    } catch (err) {
      supergraph = previous;
      throw err;
    }
  },
  serving({ subgraphs, types, composeMs, swapMs, first }) {
    const names = subgraphs.join(", ");
    if (first) {
      log(`supergraph ready: ${names} (${types} types; composed in ${composeMs}ms, loaded in ${swapMs}ms)`);
      process.stdout.write(`gateway: serving http://${hostPort()}/graphql (subgraphs: ${names})\n`);
    } else {
      log(`supergraph swapped: ${names} (${types} types; composed in ${composeMs}ms, swapped in ${swapMs}ms)`);
    }
  },
});

// ---------------------------------------------------------------- HTTP

function sendJSON(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(text);
}

// Reads a request body of at most MAX_BODY_BYTES within BODY_READ_TIMEOUT_MS; answers 413 or
// 408 itself and returns undefined when it cannot.
function readBody(req, res, errorBody = (message) => ({ errors: [{ message }] })) {
  return new Promise((resolve) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > MAX_BODY_BYTES) {
      sendJSON(res, 413, errorBody(`the request body is larger than ${MAX_BODY_BYTES} bytes`), { connection: "close" });
      req.resume();
      return resolve(undefined);
    }
    const chunks = [];
    let size = 0;
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(value);
    };
    const timer = setTimeout(() => {
      sendJSON(res, 408, errorBody(`the request body did not arrive within ${BODY_READ_TIMEOUT_MS}ms`), { connection: "close" });
      req.destroy();
      finish(undefined);
    }, BODY_READ_TIMEOUT_MS);
    req.on("data", (chunk) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        sendJSON(res, 413, errorBody(`the request body is larger than ${MAX_BODY_BYTES} bytes`), { connection: "close" });
        req.destroy();
        return finish(undefined);
      }
      chunks.push(chunk);
    });
    req.on("end", () => finish(Buffer.concat(chunks)));
    req.on("error", () => finish(undefined));
  });
}

// The admin endpoints need "Authorization: Bearer <adminToken>" when adminToken is set.
function adminAllowed(req, res) {
  if (!config.adminToken) return true;
  if (req.headers.authorization === `Bearer ${config.adminToken}`) return true;
  sendJSON(res, 401, { error: "this endpoint needs Authorization: Bearer <adminToken>" }, { "www-authenticate": "Bearer" });
  return false;
}

// GraphiQL: the core's page and assets (internal/server/graphiql, fetched by
// scripts/graphiql-assets.sh), read once. The page talks to the origin it was loaded from, so it
// uses this gateway's /graphql for queries and subscriptions.
const graphiql = new Map();
function graphiqlFile(name) {
  if (!graphiql.has(name)) {
    let file = null;
    for (const [suffix, gz] of [["", false], [".gz", true]]) {
      try {
        file = { body: readFileSync(path.join(GRAPHIQL_DIR, name + suffix)), gz };
        break;
      } catch {
        // try the next form
      }
    }
    graphiql.set(name, file);
  }
  return graphiql.get(name);
}
const CONTENT_TYPES = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".html": "text/html; charset=utf-8" };
function serveGraphiQL(req, res, name, cacheControl) {
  const file = graphiqlFile(name);
  if (!file) return sendJSON(res, name === "index.html" ? 500 : 404, { error: name === "index.html" ? `GraphiQL is missing from ${GRAPHIQL_DIR}` : "not found" });
  const headers = { "content-type": CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream", "cache-control": cacheControl };
  if (!file.gz) {
    res.writeHead(200, headers);
    return res.end(file.body);
  }
  headers.vary = "Accept-Encoding";
  if (/\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
    res.writeHead(200, { ...headers, "content-encoding": "gzip" });
    return res.end(file.body);
  }
  res.writeHead(200, headers);
  res.end(gunzipSync(file.body));
}

async function handle(req, res) {
  const url = new URL(req.url ?? "/", "http://gateway");
  const p = url.pathname;
  const get = req.method === "GET" || req.method === "HEAD";

  if (p === "/graphql") {
    if (!composer.ready()) {
      return sendJSON(res, 503, { errors: [{ message: "the gateway has no supergraph yet: the core has not answered or does not compose (see /gateway/status)", extensions: { code: "UNAVAILABLE" } }] }, { "retry-after": "2" });
    }
    if (req.method === "POST") {
      const body = await readBody(req, res);
      if (body === undefined) return;
      if (body.length > 0) req.body = body; // read already: the runtime takes it as the body
    }
    return gateway(req, res);
  }
  if (p === "/healthz" && get) return sendJSON(res, 200, { status: "ok" });
  if (p === "/readyz" && get) {
    return composer.ready() ? sendJSON(res, 200, { status: "ready" }) : sendJSON(res, 503, { status: "no supergraph yet" });
  }
  if (p === "/gateway/status" && get) {
    if (!adminAllowed(req, res)) return;
    return sendJSON(res, 200, composer.status());
  }
  if (p === "/gateway/check") {
    if (req.method !== "POST") return sendJSON(res, 405, { error: "POST a JSON body {name, sdl} or {name, url}" }, { allow: "POST" });
    if (!adminAllowed(req, res)) return;
    const body = await readBody(req, res, (error) => ({ error }));
    if (body === undefined) return;
    const candidate = parseCheckBody(body);
    if (candidate.error) return sendJSON(res, 400, { error: candidate.error });
    const { status, body: answer } = await composer.check(candidate);
    return sendJSON(res, status, answer);
  }
  if ((p === "/" || p === "/graphiql") && get) return serveGraphiQL(req, res, "index.html", "no-cache");
  if (p === "/favicon.ico" && get) return serveGraphiQL(req, res, "favicon.svg", "public, max-age=86400");
  if (p.startsWith("/graphiql/") && get) {
    const name = path.basename(p);
    if (name.startsWith("LICENSE") || name === "index.html" || name.endsWith(".gz")) return sendJSON(res, 404, { error: "not found" });
    return serveGraphiQL(req, res, name, "public, max-age=86400");
  }
  return sendJSON(res, 404, { error: `no route for ${req.method} ${p}` });
}

function parseCheckBody(buffer) {
  let body;
  try {
    body = JSON.parse(buffer.toString("utf8"));
  } catch (err) {
    return { error: `the body is not JSON: ${err.message}` };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return { error: "the body must be a JSON object {name, sdl} or {name, url}" };
  const unknown = Object.keys(body).filter((k) => !["name", "sdl", "url"].includes(k));
  if (unknown.length > 0) return { error: `unknown key(s): ${unknown.join(", ")} (known: name, sdl, url)` };
  if (typeof body.name !== "string" || !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(body.name)) {
    return { error: "name must be a subgraph name: a letter then letters, digits, _ or - (64 at most)" };
  }
  if ((body.sdl === undefined) === (body.url === undefined)) return { error: "give exactly one of sdl and url" };
  if (body.sdl !== undefined && typeof body.sdl !== "string") return { error: "sdl must be a string" };
  if (body.url !== undefined) {
    let u;
    try {
      u = new URL(body.url);
    } catch {
      return { error: "url is not a URL" };
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return { error: "url must be an http(s) URL" };
  }
  return { name: body.name, sdl: body.sdl, url: body.url };
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    log(`${req.method} ${req.url}: ${err?.stack ?? err}`);
    if (!res.headersSent) sendJSON(res, 500, { errors: [{ message: "internal error" }] });
    else res.destroy();
  });
});
server.headersTimeout = 10_000;
server.requestTimeout = 0; // bodies are timed by readBody; SSE responses must live on
server.keepAliveTimeout = 5_000;

// WebSocket subscriptions (graphql-transport-ws) on /graphql. The Authorization of the
// connection_init payload ({"Authorization": "Bearer …"}, or lowercase) is what goes to the
// subgraphs, as a header would over HTTP.
const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
useServer(
  {
    ...getGraphQLWSOptions(gateway, (ctx) => ({
      req: ctx.extra.request,
      socket: ctx.extra.socket,
      request: upgradeRequest(ctx.extra.request, ctx.connectionParams),
    })),
    connectionInitWaitTimeout: 10_000,
  },
  wss,
);
function upgradeRequest(req, params) {
  const headers = new gateway.fetchAPI.Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (/^(sec-websocket-|upgrade$|connection$)/.test(name) || value == null) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const authorization = params?.Authorization ?? params?.authorization;
  if (typeof authorization === "string" && authorization !== "") headers.set("authorization", authorization);
  return new gateway.fetchAPI.Request(`http://${req.headers.host ?? "gateway"}${req.url}`, { headers });
}
server.on("upgrade", (req, socket, head) => {
  const p = new URL(req.url ?? "/", "http://gateway").pathname;
  if (p !== "/graphql" || !composer.ready()) {
    socket.end(`HTTP/1.1 ${p !== "/graphql" ? "404 Not Found" : "503 Service Unavailable"}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
});

// ---------------------------------------------------------------- start and stop

function hostPort() {
  const a = server.address();
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return `${host}:${a.port}`;
}

server.on("error", (err) => {
  log(`cannot serve on ${config.listen.host}:${config.listen.port}: ${err.message}`);
  process.exit(1);
});
server.listen(config.listen.port, config.listen.host || undefined, () => {
  const names = config.subgraphs.map((s) => s.name).join(", ");
  log(`listening on http://${hostPort()} (${config.file}; subgraphs: ${names}${config.registry ? `; registry: ${config.registry.url}` : ""}; poll every ${config.pollInterval}ms)`);
  composer.start();
});

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: closing`);
  const force = setTimeout(() => {
    log("could not close in time; exiting");
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  force.unref();
  server.close();
  for (const ws of wss.clients) ws.close(1001, "the gateway is shutting down");
  server.closeIdleConnections();
  await composer.stop();
  try {
    await gateway.dispose();
  } catch (err) {
    log(`closing the runtime: ${err?.message ?? err}`);
  }
  server.closeAllConnections();
  process.exit(0);
}
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
