// Greenroom's scorecard plugin: an Apollo Federation v2 subgraph, its own process, that adds
// `scorecard` (documentation hygiene) to every catalog entity. The gateway composes it with
// the core and forwards the caller's Authorization header; this plugin forwards it in turn to
// the core, whose entities it reads as the caller, and logs no header.
//
//   node dist/index.js [--listen HOST:PORT] [--core URL]
//
// --listen defaults to 127.0.0.1:7009; --core (the core's GraphQL endpoint) to the environment
// variable GREENROOM_CORE_URL, else http://127.0.0.1:7007/graphql.
//
// Serves GraphQL at /graphql (POST and GET) and GET /healthz; every other path is a 404 (Yoga's
// own /health included: /healthz is the name Greenroom uses).

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { createYoga } from "graphql-yoga";
import { Core, DEFAULT_CORE_URL, parseCoreUrl, showUrl } from "./core.js";
import { makeSchema } from "./schema.js";

const DEFAULT_LISTEN = "127.0.0.1:7009";

function log(msg: string, fields: Record<string, unknown> = {}): void {
  console.error(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));
}

/** Splits HOST:PORT (IPv6 as [::1]:PORT); throws on anything else. */
function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`--listen ${JSON.stringify(listen)}: want HOST:PORT, such as ${DEFAULT_LISTEN}`);
  return { host: m[1] ?? m[2] ?? "", port };
}

function main(): void {
  const { values } = parseArgs({
    options: { listen: { type: "string", default: DEFAULT_LISTEN }, core: { type: "string" } },
    strict: true,
    allowPositionals: false,
  });
  const { host, port } = parseListen(values.listen);
  const env = process.env["GREENROOM_CORE_URL"];
  const coreUrl =
    values.core !== undefined
      ? parseCoreUrl(values.core, "--core")
      : env !== undefined && env !== ""
        ? parseCoreUrl(env, "GREENROOM_CORE_URL")
        : DEFAULT_CORE_URL;
  const core = new Core({
    url: coreUrl,
    // One line per failed read of the core (a batch), with what went wrong; no header, no URL.
    onError: (err) => log("the catalog did not answer", { reason: err.reason, detail: err.detail }),
  });

  const yoga = createYoga({
    schema: makeSchema(core),
    graphqlEndpoint: "/graphql",
    // A subgraph is called by the gateway, not by people: no GraphiQL, no landing page.
    graphiql: false,
    landingPage: false,
    // Errors that are not GraphQLErrors (bugs) reach the client as "Unexpected error." and are
    // logged with their stack; the request (and its Authorization header) is not logged.
    maskedErrors: true,
    logging: "warn",
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(req.method === "GET" ? '{"status":"ok"}' : undefined);
      return;
    }
    if (path === "/graphql") {
      void yoga(req, res);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found: GraphQL is at /graphql\n");
  });

  server.on("error", (err) => {
    log("cannot serve", { error: err.message });
    process.exit(1);
  });
  server.listen(port, host, () => {
    log("serving the scorecard subgraph", { url: `http://${values.listen}/graphql`, core: showUrl(coreUrl) });
  });

  const stop = (signal: string): void => {
    log("stopping", { signal });
    server.close(() => process.exit(0));
    server.closeIdleConnections(); // keep-alive connections from the gateway would hold close() open
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

try {
  main();
} catch (err) {
  console.error(`scorecard: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
