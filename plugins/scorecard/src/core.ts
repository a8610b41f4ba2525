// Reading entities from the core, as the caller: the plugin forwards the Authorization header
// the gateway forwarded to it, so the core's read policy applies to what the plugin reads
// exactly as to what the caller reads. (Greenroom's plugins do not use @requires/@external on
// CatalogEntity: see README.md, "Why no @requires".)

import type { EntityDocs } from "./checks.js";

/** The core's GraphQL endpoint when neither --core nor GREENROOM_CORE_URL names one. */
export const DEFAULT_CORE_URL = "http://127.0.0.1:7007/graphql";

/** What one entitiesByRefs call may ask for; the core takes at most 1000. */
export const CHUNK_SIZE = 500;
/** How long one call to the core may take, its answer read whole. */
export const TIMEOUT_MS = 10_000;
/** The most of one answer the plugin reads. */
export const MAX_RESPONSE_BYTES = 16 << 20;

// __typename: the entity's kind, which a representation of the interface (`CatalogEntity`)
// does not carry and `_entities` must answer.
const QUERY = "query($refs: [String!]!) { entitiesByRefs(refs: $refs) { __typename ref title description tags } }";

/** What the plugin reads of one entity: its GraphQL type in the core (its kind) and its docs. */
export interface CoreEntity extends EntityDocs {
  /** The core's `__typename`, such as `Component` or `GenericEntity`. */
  typename: string;
}

/**
 * The core did not answer a read usefully: down, too slow, an HTTP or GraphQL error, an answer
 * too big or not understood. `reason` is safe to show the caller (no URL, no stack, no header);
 * `detail` is for the log.
 */
export class CatalogUnavailable extends Error {
  constructor(
    readonly reason: string,
    readonly detail: string = reason,
  ) {
    super(`the catalog did not answer: ${reason}`);
    this.name = "CatalogUnavailable";
  }
}

/** Checks a core URL given by flag or environment; returns it normalized, or throws. */
export function parseCoreUrl(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${from} ${JSON.stringify(value)}: not a URL; want one such as ${DEFAULT_CORE_URL}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`${from}: want an http(s) URL, such as ${DEFAULT_CORE_URL}`);
  }
  if (url.username !== "" || url.password !== "") {
    // fetch refuses them, and they would end up in logs: the caller's token is what authenticates.
    throw new Error(`${from}: the URL must not hold a user or password`);
  }
  return url.href;
}

/** A URL fit for the log: no query string, no fragment. */
export function showUrl(href: string): string {
  const url = new URL(href);
  url.search = "";
  url.hash = "";
  return url.href;
}

export interface CoreOptions {
  url: string;
  timeoutMs?: number;
  maxResponseBytes?: number;
  chunkSize?: number;
  /** Called once per failed call, with what went wrong (never the Authorization header). */
  onError?: (err: CatalogUnavailable) => void;
}

/** The core's GraphQL API, read as the caller. */
export class Core {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly chunkSize: number;
  private readonly onError: (err: CatalogUnavailable) => void;

  constructor(options: CoreOptions) {
    this.url = options.url;
    this.timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.chunkSize = options.chunkSize ?? CHUNK_SIZE;
    this.onError = options.onError ?? (() => {});
  }

  /**
   * The type, title, description and tags of each entity of refs, in the same order: null for
   * an entity that does not exist or that the caller may not read. One entitiesByRefs call per
   * chunkSize refs, made at once. Throws CatalogUnavailable when any of them fails.
   */
  async entities(
    refs: readonly string[],
    authorization: string | null,
    signal?: AbortSignal,
  ): Promise<(CoreEntity | null)[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < refs.length; i += this.chunkSize) chunks.push(refs.slice(i, i + this.chunkSize));
    // The first failure fails the batch: the other calls are not waited for.
    const stop = new AbortController();
    const unlink = link(signal, stop);
    try {
      const answers = await Promise.all(
        chunks.map((chunk) =>
          this.call(chunk, authorization, stop.signal).catch((err: unknown) => {
            stop.abort();
            throw err;
          }),
        ),
      );
      return answers.flat();
    } catch (err) {
      const failure =
        err instanceof CatalogUnavailable ? err : new CatalogUnavailable("it could not be read", describe(err));
      this.onError(failure);
      throw failure;
    } finally {
      unlink();
    }
  }

  private async call(refs: string[], authorization: string | null, signal: AbortSignal): Promise<(CoreEntity | null)[]> {
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, this.timeoutMs);
    const unlink = link(signal, ctrl);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
    };
    if (authorization !== null) headers["authorization"] = authorization;
    let status = 0;
    let text: string;
    try {
      const res = await fetch(this.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ query: QUERY, variables: { refs } }),
        signal: ctrl.signal,
        redirect: "error", // a redirect would take the caller's token elsewhere
      });
      status = res.status;
      text = await readBounded(res, this.maxResponseBytes);
    } catch (err) {
      if (err instanceof CatalogUnavailable) throw err;
      if (timedOut) throw new CatalogUnavailable(`it did not answer within ${this.timeoutMs / 1000} s`);
      if (signal.aborted) throw new CatalogUnavailable("the read was cancelled", describe(err));
      if (describe(err).includes("redirect")) throw new CatalogUnavailable("it answered a redirect", describe(err));
      throw new CatalogUnavailable(
        status === 0 ? "it could not be reached" : `its answer (HTTP ${status}) was cut off`,
        describe(err),
      );
    } finally {
      clearTimeout(timer);
      unlink();
    }
    return parseAnswer(status, text, refs.length);
  }
}

/** Aborts ctrl when signal does; returns the function that undoes the link. */
function link(signal: AbortSignal | undefined, ctrl: AbortController): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    ctrl.abort();
    return () => {};
  }
  const abort = (): void => ctrl.abort();
  signal.addEventListener("abort", abort, { once: true });
  return () => signal.removeEventListener("abort", abort);
}

/** Reads the body as UTF-8, failing past max bytes instead of holding more. */
async function readBounded(res: Response, max: number): Promise<string> {
  const tooBig = (): CatalogUnavailable =>
    new CatalogUnavailable(`its answer was over ${mib(max)}`, `HTTP ${res.status}, over ${max} bytes`);
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    throw tooBig();
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooBig();
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size).toString("utf8");
}

/** Turns the core's answer into one CoreEntity or null per ref, or throws CatalogUnavailable. */
function parseAnswer(status: number, text: string, want: number): (CoreEntity | null)[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CatalogUnavailable(
      status >= 200 && status < 300 ? "its answer was not a GraphQL response" : `it answered HTTP ${status}`,
      `HTTP ${status}, not JSON: ${clip(text)}`,
    );
  }
  const { data, errors } = (isObject(body) ? body : {}) as { data?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.length > 0) {
    // Any error fails the batch, even beside partial data: a null the core meant as an error
    // must not read as "no such entity".
    const first: unknown = errors[0];
    const code = isObject(first) && isObject(first["extensions"]) ? first["extensions"]["code"] : undefined;
    const message = isObject(first) ? first["message"] : undefined;
    const shown = typeof code === "string" && /^[A-Z_]{1,40}$/.test(code) ? ` ${code}` : "";
    throw new CatalogUnavailable(
      `it answered an error${shown}`,
      `HTTP ${status}, ${errors.length} error(s), the first${shown}: ${clip(String(message))}`,
    );
  }
  if (status < 200 || status >= 300) {
    throw new CatalogUnavailable(`it answered HTTP ${status}`, `HTTP ${status}: ${clip(text)}`);
  }
  const list = isObject(data) ? data["entitiesByRefs"] : undefined;
  if (!Array.isArray(list) || list.length !== want) {
    throw new CatalogUnavailable(
      "its answer did not match the request",
      `HTTP ${status}, want ${want} entities, got ${Array.isArray(list) ? list.length : clip(JSON.stringify(list) ?? "nothing")}`,
    );
  }
  return list.map((item: unknown, i) => {
    if (item === null) return null;
    const entity = isObject(item) ? toEntity(item) : null;
    if (entity === null) {
      throw new CatalogUnavailable("its answer was not understood", `entitiesByRefs[${i}]: ${clip(JSON.stringify(item))}`);
    }
    return entity;
  });
}

function toEntity(item: Record<string, unknown>): CoreEntity | null {
  const { __typename, title, description, tags } = item;
  const text = (v: unknown): v is string | null => v === null || typeof v === "string";
  if (typeof __typename !== "string" || !text(title) || !text(description)) return null;
  if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === "string")) return null;
  return { typename: __typename, title, description, tags };
}

function mib(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes >> 20} MiB` : `${bytes} bytes`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

// What went wrong, for the log: the error's message and its cause's (fetch says "fetch failed"
// and puts ECONNREFUSED and the like in its cause). Never a header.
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  const c = cause instanceof Error ? ((cause as Error & { code?: string }).code ?? cause.message) : undefined;
  return c ? `${err.message} (${c})` : err.message;
}
