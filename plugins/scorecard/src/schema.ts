// The scorecard subgraph: its SDL and resolvers, built into an executable schema by
// @apollo/subgraph, which adds the federation machinery (`_service { sdl }`, `_entities`,
// `_Any`, `_Entity`) from the `@link` below.

import { buildSubgraphSchema, type GraphQLResolverMap } from "@apollo/subgraph";
import { GraphQLError, parse, type GraphQLSchema } from "graphql";
import { CHECKS, scorecard, type EntityDocs, type Scorecard } from "./checks.js";
import { CatalogUnavailable, type Core } from "./core.js";

// Greenroom plugin conventions (STYLE.md C17): federation v2.3 linked explicitly, catalog
// entities extended through the core's `CatalogEntity` interface by `ref` with
// @interfaceObject (so every kind gets the field at once, and the gateway sends one batched
// `_entities` call per list), plugin-owned names prefixed `Scorecard`/`scorecard`. No
// @requires/@external on CatalogEntity: Hive Gateway mis-plans @requires on @interfaceObject
// fields selected in inline fragments, so the plugin reads what it needs from the core itself,
// as the caller, once per `_entities` call (README.md, "Why no @requires").
export const typeDefs = parse(/* GraphQL */ `
  extend schema
    @link(
      url: "https://specs.apollo.dev/federation/v2.3"
      import: ["@key", "@interfaceObject"]
    )

  # The core's CatalogEntity interface, seen from this plugin as an object keyed by ref. Its
  # description and that of ref are left to the core: two different ones would make
  # composition hint INCONSISTENT_DESCRIPTION.
  type CatalogEntity @key(fields: "ref") @interfaceObject {
    ref: String!
    "How well the entity is documented: its title, description and tags. Null when the catalog has no such entity, or none the caller may read."
    scorecard: ScorecardResult
  }

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
    scorecardChecks: [ScorecardCheckInfo!]!
  }
`);

/** A representation that passed `_entities`' checks: the key and nothing else. */
interface EntityReference {
  __typename: "CatalogEntity";
  ref: string;
}

/** What `_entities` resolves a representation to: its key, and where its docs will come from. */
interface Entity extends EntityReference {
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
  if (__typename !== "CatalogEntity") {
    return badInput(
      `The scorecard subgraph resolves representations of CatalogEntity only; got __typename ${show(__typename)}.`,
    );
  }
  if (typeof ref !== "string" || ref === "") {
    return badInput(`A CatalogEntity representation needs its key, a non-empty string \`ref\`; got ${show(ref)}.`);
  }
  if (!REF.test(ref.trim())) {
    return badInput(`A CatalogEntity \`ref\` is \`kind:namespace/name\`; got ${show(ref)}.`);
  }
  // Anything else the representation carries is dropped: what is scored comes from the core.
  return { __typename, ref };
}

/**
 * The entities of one `_entities` call. Their docs are read from the core on the first
 * `scorecard` that asks, in one entitiesByRefs call (per 500 refs) for the whole batch, and
 * that answer, or its failure, serves every other.
 */
class Batch {
  private readonly index = new Map<string, number>();
  private readonly refs: string[] = [];
  private docs: Promise<(EntityDocs | null)[]> | undefined;

  constructor(
    private readonly core: Core,
    private readonly context: Context,
  ) {}

  add(ref: string): void {
    if (!this.index.has(ref)) this.index.set(ref, this.refs.push(ref) - 1);
  }

  async get(ref: string): Promise<EntityDocs | null> {
    if (this.docs === undefined) {
      const request = this.context.request;
      this.docs = this.core.entityDocs(this.refs, request?.headers.get("authorization") ?? null, request?.signal);
    }
    const docs = await this.docs;
    return docs[this.index.get(ref) ?? -1] ?? null;
  }
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
        // A GraphQLError returned as a list item becomes that item's error (graphql-js and
        // @graphql-tools/executor both throw an Error value where they complete it).
        return representations.map(checkReference).map((r) => {
          if (r instanceof GraphQLError) return r;
          batch.add(r.ref);
          const entity: Entity = { ...r, [BATCH]: batch };
          return entity;
        });
      },
    },

    CatalogEntity: {
      scorecard: async (entity: Entity): Promise<Scorecard | null> => {
        let docs: EntityDocs | null;
        try {
          docs = await entity[BATCH].get(entity.ref);
        } catch (err) {
          if (err instanceof CatalogUnavailable) throw unavailable(err);
          throw err;
        }
        // null: no such entity, or none the caller may read; the core does not say which.
        return docs === null ? null : scorecard(docs);
      },
    },
  } satisfies GraphQLResolverMap<Context>;

  return buildSubgraphSchema([{ typeDefs, resolvers }]);
}
