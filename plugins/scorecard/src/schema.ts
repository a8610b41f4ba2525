// The scorecard subgraph: its SDL and resolvers, built into an executable schema by
// @apollo/subgraph, which adds the federation machinery (`_service { sdl }`, `_entities`,
// `_Any`, `_Entity`) from the `@link` below.

import { buildSubgraphSchema, type GraphQLResolverMap } from "@apollo/subgraph";
import { GraphQLError, parse, type GraphQLSchema } from "graphql";
import { CHECKS, scorecard, type Scorecard } from "./checks.js";
import { CatalogUnavailable, type Core, type CoreEntity } from "./core.js";

/**
 * The core's catalog kinds: the types that implement its `CatalogEntity` interface. A subgraph
 * that defines an entity interface must define every type that implements it (Apollo's
 * composition fails otherwise), so a kind the core adds must be added here too.
 */
export const KINDS = [
  "Component",
  "API",
  "Resource",
  "System",
  "Domain",
  "Group",
  "User",
  "Location",
  "Template",
  "GenericEntity",
] as const;

export type Kind = (typeof KINDS)[number];

/** The kind of an entity whose type is unknown: the core's own catch-all. */
const FALLBACK_KIND: Kind = "GenericEntity";

function isKind(name: unknown): name is Kind {
  return (KINDS as readonly unknown[]).includes(name);
}

const SCORECARD_DESCRIPTION =
  "How well the entity is documented: its title, description and tags. Null when the catalog has no such entity, or none the caller may read.";

// Greenroom plugin conventions (STYLE.md C17, plugins/README.md): federation v2.3 linked
// explicitly, the core's entity interface `CatalogEntity` and every kind defined here, all keyed
// by ref, plugin-owned names prefixed `Scorecard`/`scorecard`.
//
// Not `type CatalogEntity @interfaceObject`: Hive Gateway 2.12.1 answers null, with no error,
// for an @interfaceObject field on entities reached through a field typed as a kind
// (`System.components`, `Component.providesApis`, `owner`, …). Defined on the interface and on
// each kind, the field answers everywhere, and the gateway still sends one batched `_entities`
// call per list (its representations name the kinds).
//
// No description on CatalogEntity, the kinds or ref: the core's are the ones, and two different
// ones would make composition hint INCONSISTENT_DESCRIPTION. The `scorecard` field is this
// plugin's alone, so its description is.
//
// No @requires/@external: Hive Gateway mis-plans @requires on fields selected in inline
// fragments, so the plugin reads what it needs from the core itself, as the caller, once per
// `_entities` call (README.md, "Why no @requires").
export const typeDefs = parse(/* GraphQL */ `
  extend schema
    @link(
      url: "https://specs.apollo.dev/federation/v2.3"
      import: ["@key"]
    )

  interface CatalogEntity @key(fields: "ref") {
    ref: String!
    "${SCORECARD_DESCRIPTION}"
    scorecard: ScorecardResult
  }

${KINDS.map(
  (kind) => `
  type ${kind} implements CatalogEntity @key(fields: "ref") {
    ref: String!
    "${SCORECARD_DESCRIPTION}"
    scorecard: ScorecardResult
  }
`,
).join("")}
  "An entity's documentation-hygiene scorecard."
  type ScorecardResult {
    "The share of checks passed, from 0 to 100, rounded."
    score: Int!
    "Every check's outcome, in the order of \`scorecardChecks\`."
    checks: [ScorecardCheckResult!]!
  }

  "The outcome of one check for one entity."
  type ScorecardCheckResult {
    "The check, such as \`has-title\`."
    id: String!
    "Whether the entity passes it."
    passed: Boolean!
    "What was found, or what to fix."
    message: String!
  }

  "A check the scorecard runs."
  type ScorecardCheckInfo {
    "The check's id, as in \`ScorecardCheckResult.id\`."
    id: String!
    "What it checks."
    description: String!
  }

  type Query {
    "The checks every scorecard runs, in order."
    scorecardChecks: [ScorecardCheckInfo!]
  }
`);

/** A representation that passed `_entities`' checks: its type (a kind or the interface) and key. */
interface EntityReference {
  __typename: Kind | "CatalogEntity";
  ref: string;
}

/** What `_entities` resolves a representation to: its kind, its key, and where its docs come from. */
interface Entity {
  __typename: Kind;
  ref: string;
  [BATCH]: Batch;
}

const BATCH = Symbol("batch");

/** What the resolvers need of Yoga's context: the incoming request, for its Authorization. */
interface Context {
  request?: Request;
}

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
}

// A new error for each field: the same instance, thrown at several paths, would keep the first.
function unavailable(err: CatalogUnavailable): GraphQLError {
  return new GraphQLError(`The catalog did not answer (${err.reason}); the scorecard is unavailable.`, {
    extensions: { code: "UNAVAILABLE" },
  });
}

// Echo client input in messages, but not all of it.
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// `kind:namespace/name`, as the core's entitiesByRefs parses it (with a kind, which it needs):
// a ref it would reject fails here, at its own index, rather than the whole batch there.
const REF = /^[^:/]+:[^/]+\/.+$/s;

/** Checks a representation's type and key; returns it typed, or the error to report. */
function checkReference(rep: unknown): EntityReference | GraphQLError {
  if (typeof rep !== "object" || rep === null || Array.isArray(rep)) {
    return badInput(`A representation must be an object; got ${show(rep)}.`);
  }
  const { __typename, ref } = rep as Record<string, unknown>;
  if (__typename !== "CatalogEntity" && !isKind(__typename)) {
    return badInput(
      `The scorecard subgraph resolves representations of CatalogEntity and its kinds (${KINDS.join(", ")}) only; got __typename ${show(__typename)}.`,
    );
  }
  if (typeof ref !== "string" || ref === "") {
    return badInput(`A representation of ${__typename} needs its key, a non-empty string \`ref\`; got ${show(ref)}.`);
  }
  if (!REF.test(ref.trim())) {
    return badInput(`The key \`ref\` of a representation of ${__typename} is \`kind:namespace/name\`; got ${show(ref)}.`);
  }
  // Anything else the representation carries is dropped: what is scored comes from the core.
  return { __typename, ref };
}

/**
 * The entities of one `_entities` call. They are read from the core once, in one entitiesByRefs
 * call (per 500 refs) for the whole batch, on the first `scorecard` that asks, or as soon as
 * `_entities` resolves a representation of the interface (whose kind only the core knows); that
 * answer, or its failure, serves every other.
 */
class Batch {
  private readonly index = new Map<string, number>();
  private readonly refs: string[] = [];
  private read: Promise<(CoreEntity | null)[]> | undefined;

  constructor(
    private readonly core: Core,
    private readonly context: Context,
  ) {}

  /** Adds a ref to the batch; every ref must be added before the first get. */
  add(ref: string): void {
    if (!this.index.has(ref)) this.index.set(ref, this.refs.push(ref) - 1);
  }

  async get(ref: string): Promise<CoreEntity | null> {
    if (this.read === undefined) {
      const request = this.context.request;
      this.read = this.core.entities(this.refs, request?.headers.get("authorization") ?? null, request?.signal);
    }
    const entities = await this.read;
    return entities[this.index.get(ref) ?? -1] ?? null;
  }

  /**
   * The kind of the entity at ref, as the core answers it; GenericEntity when the core has no
   * such entity (or none the caller may read), does not answer, or answers a type this plugin
   * does not know. Never throws: the read's failure, if any, is reported by `scorecard`.
   */
  async kind(ref: string): Promise<Kind> {
    try {
      const typename = (await this.get(ref))?.typename;
      return isKind(typename) ? typename : FALLBACK_KIND;
    } catch {
      return FALLBACK_KIND;
    }
  }
}

/** Resolves `scorecard` on any kind: null for no entity (or none the caller may read). */
async function resolveScorecard(entity: Entity): Promise<Scorecard | null> {
  let found: CoreEntity | null;
  try {
    found = await entity[BATCH].get(entity.ref);
  } catch (err) {
    if (err instanceof CatalogUnavailable) throw unavailable(err);
    throw err;
  }
  // null: no such entity, or none the caller may read; the core does not say which.
  return found === null ? null : scorecard(found);
}

export function makeSchema(core: Core): GraphQLSchema {
  const resolvers = {
    Query: {
      scorecardChecks: () => CHECKS.map(({ id, description }) => ({ id, description })),

      // Replaces the _entities resolver @apollo/subgraph installs, which throws for a whole
      // batch when one representation names an unknown type. Here each bad representation gets
      // its own error at its own index (`_entities.2`) and a null, and the rest of the batch
      // resolves. Every good one shares one Batch: one read of the core for the call.
      _entities: (_source: unknown, { representations }: { representations: unknown[] }, context: Context): unknown[] => {
        const batch = new Batch(core, context);
        const checked = representations.map(checkReference);
        // Every ref first, so that the one read, whenever it starts, covers the whole batch.
        for (const r of checked) if (!(r instanceof GraphQLError)) batch.add(r.ref);
        // A GraphQLError returned as a list item becomes that item's error (graphql-js and
        // @graphql-tools/executor both throw an Error value where they complete it); a promise
        // item is awaited.
        return checked.map((r): GraphQLError | Entity | Promise<Entity> => {
          if (r instanceof GraphQLError) return r;
          const { __typename, ref } = r;
          if (__typename !== "CatalogEntity") return { __typename, ref, [BATCH]: batch };
          // A representation of the interface: its object must name a kind (`_Entity` and
          // `CatalogEntity` resolve to the object's __typename), which the core's answer gives.
          return batch.kind(ref).then((kind) => ({ __typename: kind, ref, [BATCH]: batch }));
        });
      },
    },

    CatalogEntity: {
      __resolveType: (entity: Entity): Kind => entity.__typename,
    },

    ...Object.fromEntries(KINDS.map((kind) => [kind, { scorecard: resolveScorecard }])),
  } satisfies GraphQLResolverMap<Context>;

  return buildSubgraphSchema([{ typeDefs, resolvers }]);
}
