// The gateway's configuration: a YAML file (gateway/gateway.yaml by default), checked whole
// before anything starts. Every problem is a ConfigError whose message names the file, the line
// and the key, e.g. `gateway.yaml:9: subgraphs[1].url: "ftp://x" is not an http(s) URL`;
// server.mjs prints it and exits 2. See README.md ("The gateway") for the keys.

import { readFileSync } from "node:fs";
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from "yaml";

export class ConfigError extends Error {}

export const DEFAULTS = {
  listen: "127.0.0.1:4000",
  pollInterval: "2s",
  subgraphTimeout: "10s",
};

// Subgraph names become enum values in the supergraph (join__Graph) and appear in logs and
// error messages, so they are kept plain.
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const DURATION_BOUNDS = {
  pollInterval: [100, 24 * 3600 * 1000],
  subgraphTimeout: [100, 10 * 60 * 1000],
};

// "2s", "500ms", "1m30s", "1.5h": Go's time.ParseDuration units from ms up. Returns
// milliseconds, or undefined when the text is not a duration.
export function parseDuration(text) {
  if (typeof text !== "string" || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const [, n, , u] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * unit[u];
  return Math.round(ms);
}

// "127.0.0.1:4000", "[::1]:4000", ":4000" (every interface). Port 0 picks a free port (tests).
export function parseListen(text) {
  const m = typeof text === "string" && /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

export function checkURL(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "is not an http(s) URL";
  if (url.username || url.password) return "must not carry a user or password";
  return undefined;
}

// ${VAR} is replaced with the variable's value, or "" when it is unset.
function expandEnv(text) {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name) => process.env[name] ?? "");
}

// Reads and checks the file. overrides.listen (the --listen flag) wins over the file's.
export function loadConfig(file, display = file, overrides = {}) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`${display}: cannot read the configuration: ${err.message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (node) => {
    const offset = node?.range?.[0];
    return offset == null ? display : `${display}:${lineCounter.linePos(offset).line}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
    throw new ConfigError(`${display}:${line}: not valid YAML: ${e.message.split("\n")[0]}`);
  }
  const fail = (node, key, message) => {
    throw new ConfigError(`${at(node)}: ${key}: ${message}`);
  };

  // Walks a mapping, refusing keys not in `known`; returns key → value node.
  function fields(node, key, known) {
    if (!isMap(node)) fail(node, key || "(top level)", "must be a mapping");
    const out = new Map();
    for (const pair of node.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const path = key ? `${key}.${name}` : name;
      if (name === undefined || !known.includes(name)) {
        fail(pair.key, path ?? key, `unknown key (known: ${known.join(", ")})`);
      }
      out.set(name, pair.value);
    }
    return out;
  }
  function string(node, key, { optional = false } = {}) {
    if (node == null || (isScalar(node) && node.value === null)) {
      if (optional) return undefined;
      fail(node, key, "is required");
    }
    if (!isScalar(node) || typeof node.value !== "string" && typeof node.value !== "number") {
      fail(node, key, "must be a string");
    }
    return expandEnv(String(node.value));
  }
  function url(node, key) {
    const value = string(node, key);
    const problem = checkURL(value);
    if (problem) fail(node, key, `${JSON.stringify(value)} ${problem}`);
    return value;
  }
  function duration(node, key) {
    const value = node == null ? DEFAULTS[key] : string(node, key);
    const ms = parseDuration(value);
    if (ms === undefined) fail(node, key, `${JSON.stringify(value)} is not a duration (e.g. 2s, 500ms, 1m)`);
    const [min, max] = DURATION_BOUNDS[key];
    if (ms < min || ms > max) fail(node, key, `${value} is out of range (${min}ms to ${max / 1000}s)`);
    return ms;
  }

  if (doc.contents == null) throw new ConfigError(`${display}: the configuration is empty`);
  const top = fields(doc.contents, "", ["listen", "subgraphs", "registry", "pollInterval", "subgraphTimeout", "adminToken"]);

  const listenText = overrides.listen ?? (top.has("listen") ? string(top.get("listen"), "listen") : DEFAULTS.listen);
  const listen = parseListen(listenText);
  if (!listen) {
    if (overrides.listen !== undefined) throw new ConfigError(`--listen: ${JSON.stringify(listenText)} is not HOST:PORT`);
    fail(top.get("listen"), "listen", `${JSON.stringify(listenText)} is not HOST:PORT`);
  }

  const list = top.get("subgraphs");
  if (!isSeq(list) || list.items.length === 0) {
    fail(list ?? doc.contents, "subgraphs", "a list of at least one {name, url} is required (the first is the core)");
  }
  const subgraphs = [];
  const seen = new Map();
  list.items.forEach((item, i) => {
    const key = `subgraphs[${i}]`;
    const f = fields(item, key, ["name", "url"]);
    if (!f.has("name")) fail(item, `${key}.name`, "is required");
    if (!f.has("url")) fail(item, `${key}.url`, "is required");
    const name = string(f.get("name"), `${key}.name`);
    if (!NAME_PATTERN.test(name)) {
      fail(f.get("name"), `${key}.name`, `${JSON.stringify(name)} must be a letter then letters, digits, _ or - (64 at most)`);
    }
    if (seen.has(name)) fail(f.get("name"), `${key}.name`, `${JSON.stringify(name)} is already the name of ${seen.get(name)}`);
    seen.set(name, key);
    subgraphs.push({ name, url: url(f.get("url"), `${key}.url`) });
  });

  let registry = null;
  if (top.has("registry") && !(isScalar(top.get("registry")) && top.get("registry").value === null)) {
    const f = fields(top.get("registry"), "registry", ["url", "token"]);
    if (!f.has("url")) fail(top.get("registry"), "registry.url", "is required");
    registry = {
      url: url(f.get("url"), "registry.url"),
      token: f.has("token") ? string(f.get("token"), "registry.token", { optional: true }) ?? "" : "",
    };
  }

  return {
    file: display,
    listen,
    subgraphs,
    registry,
    pollInterval: duration(top.get("pollInterval"), "pollInterval"),
    subgraphTimeout: duration(top.get("subgraphTimeout"), "subgraphTimeout"),
    adminToken: top.has("adminToken") ? string(top.get("adminToken"), "adminToken", { optional: true }) ?? "" : "",
  };
}
