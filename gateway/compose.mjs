// The composition loop: every pollInterval, read the plugin registry, read each subgraph's SDL
// (`{ _service { sdl } }`), compose them with @theguild/federation-composition and hand a new
// supergraph to the server when it differs from the one serving. The rules (README.md, "The
// gateway"):
//
// - A subgraph that does not answer keeps the SDL it gave last (state "down"); one never seen up
//   is left out. The core (the first static subgraph) must have answered once before anything is
//   composed.
// - A failing composition never takes traffic: the supergraph serving stays. The loop then adds
//   the subgraphs one at a time to the core — first those unchanged since the last good
//   composition, then the added or changed ones, in configuration then registry order — and
//   refuses (state "refused") each whose addition fails, so that the others still get in. A
//   refused subgraph that was part of the last good composition keeps its previous SDL when that
//   still composes. The core is never refused: when it fails alone, nothing changes.
// - Composition runs only when a subgraph's name, URL or SDL changed since the last attempt.

import { Source, buildASTSchema, getLocation, isIntrospectionType, isSpecifiedScalarType, parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";
import { NAME_PATTERN, checkURL } from "./config.mjs";

const MAX_SDL_BYTES = 8 << 20; // a subgraph's `_service { sdl }` answer
const MAX_REGISTRY_BYTES = 1 << 20; // the registry's `plugins` answer
const SOURCE_PREFIX = "subgraph:"; // each SDL is parsed as a Source so named, to find errors' subgraph

const SERVICE_QUERY = "{ _service { sdl } }";
const REGISTRY_QUERY = "{ plugins { name url } }";

// ---------------------------------------------------------------- HTTP

// POSTs a GraphQL query and returns the `data` of the answer; throws an Error whose message says
// what went wrong (refused connection, timeout, HTTP status, GraphQL errors, too large a body).
export async function postGraphQL(url, query, { timeout, token, maxBytes }) {
  const headers = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(timeout),
      redirect: "error",
    });
  } catch (err) {
    throw new Error(fetchErrorMessage(err, timeout));
  }
  let text;
  try {
    text = await readCapped(res, maxBytes);
  } catch (err) {
    throw new Error(fetchErrorMessage(err, timeout));
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}: the answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (Array.isArray(body?.errors) && body.errors.length > 0) {
    const messages = body.errors.slice(0, 3).map((e) => String(e?.message ?? JSON.stringify(e)));
    throw new Error(`HTTP ${res.status}: GraphQL error: ${messages.join("; ")}`);
  }
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  if (body?.data == null || typeof body.data !== "object") throw new Error(`HTTP ${res.status}: no data in the answer`);
  return body.data;
}

async function readCapped(res, maxBytes) {
  const declared = Number(res.headers.get("content-length"));
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`the answer has ${declared} bytes, more than ${maxBytes}`);
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`the answer is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function fetchErrorMessage(err, timeout) {
  if (err?.name === "TimeoutError") return `no answer within ${timeout}ms`;
  const cause = err?.cause;
  if (cause?.code) return `${cause.code}${cause.address ? ` ${cause.address}${cause.port ? `:${cause.port}` : ""}` : ""}`;
  return err?.message ?? String(err);
}

export async function fetchSDL(url, timeout, token) {
  const data = await postGraphQL(url, SERVICE_QUERY, { timeout, token, maxBytes: MAX_SDL_BYTES });
  const sdl = data?._service?.sdl;
  if (typeof sdl !== "string" || sdl.trim() === "") throw new Error("`_service { sdl }` answered no SDL");
  return sdl;
}

// ---------------------------------------------------------------- composing

function apiTypeCount(publicDocumentNode) {
  const schema = buildASTSchema(publicDocumentNode, { assumeValidSDL: true });
  return Object.values(schema.getTypeMap()).filter((t) => !isIntrospectionType(t) && !isSpecifiedScalarType(t)).length;
}

// One error as the status and check endpoints report it. The subgraph comes from the error's
// extensions.subgraphName, or the source of its first AST node (each SDL is parsed as a Source
// named after its subgraph), or a "[name]" prefix or a `subgraph "name"` in its message; when
// none names one, `blame` (the subgraph being added or checked) is used. Line and column are in
// that subgraph's SDL, when the error carries a node of it.
function describeError(error, names, blame, docs) {
  const message = String(error?.message ?? error);
  let subgraph = typeof error?.extensions?.subgraphName === "string" ? error.extensions.subgraphName : null;
  let line = null;
  let column = null;
  const located = [...(error?.nodes ?? [])].find((n) => n?.loc?.source?.name?.startsWith(SOURCE_PREFIX));
  const source = located?.loc?.source ?? (error?.source?.name?.startsWith(SOURCE_PREFIX) ? error.source : null);
  const sourceName = source?.name.slice(SOURCE_PREFIX.length);
  subgraph ??= sourceName ?? null;
  if (source && sourceName === subgraph) {
    const pos = located ? getLocation(source, located.loc.start) : error.locations?.[0];
    if (pos) ({ line, column } = pos);
  }
  if (subgraph === null) {
    const prefix = /^\[([^\]]+)\]/.exec(message);
    if (prefix && names.includes(prefix[1])) subgraph = prefix[1];
  }
  if (subgraph === null && /subgraph/i.test(message)) {
    const mentioned = [...message.matchAll(/"([^"]+)"/g)].map((m) => m[1]).filter((n) => names.includes(n));
    subgraph = mentioned.includes(blame) ? blame : mentioned[0] ?? null;
  }
  subgraph ??= blame ?? null;
  if (line === null && docs?.has(subgraph)) ({ line, column } = locateNamed(docs.get(subgraph), message));
  const code = typeof error?.extensions?.code === "string" ? error.extensions.code : undefined;
  return { subgraph, message, line, column, ...(code ? { code } : {}) };
}

// For an error that carries no node: the position, in a subgraph's document, of the first
// "Type.field" or "Type" the message names that the document defines or extends.
function locateNamed(doc, message) {
  const none = { line: null, column: null };
  const at = (node) => (node?.loc ? getLocation(node.loc.source, node.loc.start) : none);
  const defs = (name) => doc.definitions.filter((d) => d.name?.value === name);
  for (const [, type, field] of message.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\b/g)) {
    for (const def of defs(type)) {
      const node = [...(def.fields ?? []), ...(def.values ?? [])].find((f) => f.name.value === field);
      if (node) return at(node.name);
    }
  }
  for (const [, name] of message.matchAll(/"([A-Za-z_][A-Za-z0-9_]*)"/g)) {
    const def = defs(name)[0];
    if (def) return at(def.name);
  }
  return none;
}

// Composes [{name, url, sdl}]; returns {ok: true, supergraphSdl, types} or {ok: false, errors}.
// `blame` names the subgraph errors are put on when they name none.
export function compose(subgraphs, blame) {
  const names = subgraphs.map((s) => s.name);
  const services = [];
  const errors = [];
  const docs = new Map();
  for (const s of subgraphs) {
    try {
      docs.set(s.name, parse(new Source(s.sdl, SOURCE_PREFIX + s.name)));
      services.push({ name: s.name, url: s.url, typeDefs: docs.get(s.name) });
    } catch (err) {
      errors.push({ ...describeError(err, names, s.name), subgraph: s.name, code: "SDL_SYNTAX_ERROR" });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  let result;
  try {
    result = composeServices(services);
  } catch (err) {
    return { ok: false, errors: [{ subgraph: blame ?? null, message: `composition threw: ${err?.message ?? err}`, line: null, column: null }] };
  }
  if (result.errors?.length) return { ok: false, errors: result.errors.map((e) => describeError(e, names, blame, docs)) };
  return { ok: true, supergraphSdl: result.supergraphSdl, types: apiTypeCount(result.publicDocumentNode) };
}

function errorKey(errors) {
  return errors.map((e) => `${e.subgraph}|${e.line}|${e.column}|${e.message}`).join("\n");
}

function formatErrors(errors) {
  return errors.map((e) => `  ${e.subgraph ?? "?"}${e.line ? `:${e.line}:${e.column}` : ""}: ${e.message}`).join("\n");
}

// ---------------------------------------------------------------- the loop

export class Composer {
  // swap(supergraphSdl) is awaited before a new supergraph counts as serving; serving(info) is
  // called once it does.
  constructor(config, { log, swap, serving }) {
    this.config = config;
    this.log = log;
    this.swap = swap;
    this.onServing = serving;
    this.core = config.subgraphs[0].name;
    this.entries = new Map(); // name → {name, url, source, sdl (the last read), fetchError}
    this.registryList = []; // the plugins the registry listed last
    this.registryError = null; // the last failure to read it, logged once
    this.registryProblems = ""; // the bad entries it listed last, logged once
    this.serving = null; // {supergraphSdl, inputs: [{name, url, sdl}], types, composedAt}
    this.refused = new Map(); // name → {errors, keptPrevious}
    this.lastErrors = []; // errors of the last composition attempt, [] when it composed
    this.lastKey = null; // the inputs of the last composition attempt
    this.lastLogged = null; // the last failure logged, to log each once
    this.timer = null;
    this.stopped = false;
    this.round = null;
  }

  start() {
    const loop = async () => {
      this.round = this.tick().catch((err) => this.log(`composition round failed: ${err?.stack ?? err}`));
      await this.round;
      this.round = null;
      if (!this.stopped) this.timer = setTimeout(loop, this.config.pollInterval);
    };
    loop();
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  async tick() {
    if (this.config.registry) await this.readRegistry();
    this.syncEntries();
    await Promise.all([...this.entries.values()].map((e) => this.readSDL(e)));
    if (!this.stopped) await this.composeIfChanged();
  }

  async readRegistry() {
    const { url, token } = this.config.registry;
    let plugins;
    try {
      const data = await postGraphQL(url, REGISTRY_QUERY, { timeout: this.config.subgraphTimeout, token, maxBytes: MAX_REGISTRY_BYTES });
      plugins = data.plugins;
      if (!Array.isArray(plugins)) throw new Error("`plugins` is not a list");
    } catch (err) {
      const message = `cannot read the registry at ${url} (keeping its last list of ${this.registryList.length}): ${err.message}`;
      if (message !== this.registryError) this.log(message);
      this.registryError = message;
      return;
    }
    if (this.registryError) this.log(`registry at ${url} read again: ${plugins.length} plugin(s)`);
    this.registryError = null;
    const list = [];
    const problems = [];
    for (const p of plugins) {
      const name = p?.name;
      const problem = typeof name !== "string" || !NAME_PATTERN.test(name) ? `name ${JSON.stringify(name)} is not a valid subgraph name`
        : typeof p.url !== "string" ? "no url"
          : checkURL(p.url) ? `url ${JSON.stringify(p.url)} ${checkURL(p.url)}`
            : list.some((q) => q.name === name) ? "listed twice"
              : this.config.subgraphs.some((s) => s.name === name) ? `a static subgraph is named ${name}; the static one is used`
                : undefined;
      if (problem) problems.push(`registry plugin ${JSON.stringify(name)}: ${problem}`);
      else list.push({ name, url: p.url });
    }
    const key = problems.join("\n");
    if (problems.length > 0 && key !== this.registryProblems) this.log(problems.join("\n"));
    this.registryProblems = key;
    this.registryList = list;
  }

  // Makes the entries the static subgraphs plus the registry's, in that order. An entry whose URL
  // changed starts afresh.
  syncEntries() {
    const wanted = [
      ...this.config.subgraphs.map((s) => ({ ...s, source: "config" })),
      ...this.registryList.map((s) => ({ ...s, source: "registry" })),
    ];
    const next = new Map();
    for (const w of wanted) {
      const old = this.entries.get(w.name);
      if (old && old.url === w.url) next.set(w.name, { ...old, source: w.source });
      else next.set(w.name, { ...w, sdl: null, fetchError: null });
      if (!old && w.source === "registry") this.log(`registry added ${w.name} (${w.url})`);
    }
    for (const name of this.entries.keys()) {
      if (!next.has(name)) this.log(`registry removed ${name}`);
    }
    this.entries = next;
  }

  // The registry's token goes with the SDL requests to the registry's own URL (the core) and
  // to no other subgraph.
  tokenFor(url) {
    return this.config.registry && url === this.config.registry.url ? this.config.registry.token : undefined;
  }

  async readSDL(entry) {
    try {
      const sdl = await fetchSDL(entry.url, this.config.subgraphTimeout, this.tokenFor(entry.url));
      if (entry.fetchError) this.log(`subgraph ${entry.name} is up again (${entry.url})`);
      entry.sdl = sdl;
      entry.fetchError = null;
    } catch (err) {
      const message = `cannot read the SDL of ${entry.name} at ${entry.url}: ${err.message}`;
      if (message !== entry.fetchError) {
        this.log(`subgraph ${entry.name} is down: ${message}${entry.sdl ? " (composing with the SDL it gave last)" : " (left out of the supergraph until it answers)"}`);
      }
      entry.fetchError = message;
    }
  }

  async composeIfChanged() {
    const core = this.entries.get(this.core);
    if (!core.sdl) return; // nothing is composed before the core has answered once
    const desired = [...this.entries.values()].filter((e) => e.sdl).map(({ name, url, sdl }) => ({ name, url, sdl }));
    const key = JSON.stringify(desired.map((d) => [d.name, d.url, d.sdl]));
    if (key === this.lastKey) return;
    this.lastKey = key;

    const started = performance.now();
    const full = compose(desired);
    let result = full;
    let accepted = desired;
    const refused = new Map();
    if (!full.ok) {
      ({ result, accepted } = this.composeRefusing(desired, refused));
    }
    const ms = Math.round(performance.now() - started);
    this.refused = refused;
    // The errors of this attempt: those of each refused subgraph (found adding it), or, when
    // none could be refused, those of the whole composition.
    this.lastErrors = full.ok ? [] : refused.size > 0 ? [...refused.values()].flatMap((r) => r.errors) : full.errors;

    if (!full.ok) {
      const k = errorKey(this.lastErrors);
      if (k !== this.lastLogged) {
        this.log(`composition of ${desired.map((d) => d.name).join(", ")} failed (${ms}ms):\n${formatErrors(this.lastErrors)}`);
        for (const [name, r] of refused) {
          this.log(`refused ${name}${r.keptPrevious ? " (its previous schema keeps serving)" : " (left out of the supergraph)"}`);
        }
        if (!result) this.log(this.serving ? "the supergraph serving is kept" : "no supergraph serves yet");
      }
      this.lastLogged = k;
    } else {
      this.lastLogged = null;
    }
    if (!result || (this.serving && result.supergraphSdl === this.serving.supergraphSdl)) return;

    const swapStarted = performance.now();
    try {
      await this.swap(result.supergraphSdl);
    } catch (err) {
      this.log(`the gateway runtime did not take the new supergraph, the previous one keeps serving: ${err?.stack ?? err}`);
      return;
    }
    const first = this.serving === null;
    this.serving = { supergraphSdl: result.supergraphSdl, inputs: accepted, types: result.types, composedAt: new Date() };
    this.onServing({
      subgraphs: accepted.map((a) => a.name),
      types: result.types,
      composeMs: ms,
      swapMs: Math.round(performance.now() - swapStarted),
      first,
    });
  }

  // The refusal rule (see the top of this file). Returns {result, accepted}; result is null when
  // not even the core composes alone.
  composeRefusing(desired, refused) {
    const previous = new Map((this.serving?.inputs ?? []).map((i) => [i.name, i]));
    const order = new Map(desired.map((d, i) => [d.name, i]));
    const sorted = (list) => [...list].sort((a, b) => order.get(a.name) - order.get(b.name));
    const same = (d) => previous.get(d.name)?.sdl === d.sdl && previous.get(d.name)?.url === d.url;
    const core = desired.find((d) => d.name === this.core);
    const others = desired.filter((d) => d !== core);
    const unchanged = others.filter(same);
    const changed = others.filter((d) => !same(d));

    let accepted = [core, ...unchanged];
    let result = compose(accepted);
    let toAdd = changed;
    if (!result.ok) {
      accepted = [core];
      result = compose(accepted, this.core);
      if (!result.ok) return { result: null, accepted: [] };
      toAdd = [...unchanged, ...changed];
    }
    for (const candidate of toAdd) {
      const withIt = sorted([...accepted, candidate]);
      const r = compose(withIt, candidate.name);
      if (r.ok) {
        accepted = withIt;
        result = r;
        continue;
      }
      const entry = { errors: r.errors, keptPrevious: false };
      refused.set(candidate.name, entry);
      const prev = previous.get(candidate.name);
      if (prev && prev.sdl !== candidate.sdl && prev.url === candidate.url) {
        const withPrevious = sorted([...accepted, prev]);
        const rp = compose(withPrevious, candidate.name);
        if (rp.ok) {
          accepted = withPrevious;
          result = rp;
          entry.keptPrevious = true;
        }
      }
    }
    return { result, accepted };
  }

  ready() {
    return this.serving !== null;
  }

  status() {
    const servingNames = new Set((this.serving?.inputs ?? []).map((i) => i.name));
    const subgraphs = [...this.entries.values()].map((e) => {
      const r = this.refused.get(e.name);
      let state = "up";
      let error = null;
      if (r) {
        state = "refused";
        error = `refused: its schema does not compose (${r.errors.length} error(s)); ${r.keptPrevious ? "its previous schema keeps serving" : "left out of the supergraph"}`;
      } else if (e.fetchError) {
        state = "down";
        error = `${e.fetchError}; ${e.sdl && servingNames.has(e.name) ? "served with the SDL it gave last" : e.sdl ? "composed with the SDL it gave last" : "left out of the supergraph"}`;
      } else if (!e.sdl) {
        state = "down";
        error = "not read yet";
      } else if (!servingNames.has(e.name)) {
        // Read, and composing: "up" only once queries can reach it.
        state = "pending";
        error = "read, not yet in the supergraph serving";
      }
      return { name: e.name, url: e.url, source: e.source, state, error, errors: r?.errors ?? [] };
    });
    return {
      ready: this.ready(),
      composedAt: this.serving ? this.serving.composedAt.toISOString() : null,
      subgraphs,
      errors: this.lastErrors,
    };
  }

  // The check endpoint: composes a candidate with the SDLs serving, the candidate replacing the
  // subgraph of its name. Returns {status, body}.
  async check({ name, sdl, url }) {
    if (!this.serving) {
      return { status: 503, body: { ok: false, errors: [{ subgraph: null, message: "no supergraph serves yet: try again once /readyz answers 200", line: null, column: null }] } };
    }
    if (sdl === undefined) {
      try {
        sdl = await fetchSDL(url, this.config.subgraphTimeout, this.tokenFor(url));
      } catch (err) {
        return { status: 200, body: { ok: false, errors: [{ subgraph: name, message: `cannot read the SDL of ${name} at ${url}: ${err.message}`, line: null, column: null }] } };
      }
    }
    const current = this.serving.inputs.find((i) => i.name === name);
    const candidate = { name, url: url ?? current?.url ?? `http://${name}.invalid/graphql`, sdl };
    const list = current ? this.serving.inputs.map((i) => (i.name === name ? candidate : i)) : [...this.serving.inputs, candidate];
    const r = compose(list, name);
    return { status: 200, body: r.ok ? { ok: true, types: r.types } : { ok: false, errors: r.errors } };
  }
}
