// The scorecard subgraph: its SDL and resolvers, built into an executable schema by
// @apollo/subgraph, which adds the federation machinery (`_service { sdl }`, `_entities`,
// `_Any`, `_Entity`) from the `@link` below.

import { buildSubgraphSchema, entitiesResolver, type GraphQLResolverMap } from "@apollo/subgraph";
import { GraphQLError, parse, type GraphQLResolveInfo } from "graphql";
import { CHECKS, scorecard, type EntityDocs, type Scorecard } from "./checks.js";

// Greenroom plugin conventions (STYLE.md C17): federation v2.3 linked explicitly, catalog
// entities extended through the core's `CatalogEntity` interface by `ref` with
// @interfaceObject (so every kind gets the field at once, and the gateway sends one batched
// `_entities` call per list), plugin-owned names prefixed `Scorecard`/`scorecard`.
export const typeDefs = parse(/* GraphQL */ `
  extend schema
    @link(
      url: "https://specs.apollo.dev/federation/v2.3"
      import: ["@key", "@interfaceObject", "@external", "@requires"]
    )

  # The core's CatalogEntity interface, seen from this plugin as an object keyed by ref. Its
  # description and those of the core's fields are left to the core: two different ones would
  # make composition hint INCONSISTENT_DESCRIPTION. title, description and tags are the core's
  # (@external); @requires makes the gateway send them in each representation.
  type CatalogEntity @key(fields: "ref") @interfaceObject {
    ref: String!
    description: String @external
    tags: [String!]! @external
    title: String @external
    "How well the entity is documented: its title, description and tags."
    scorecard: ScorecardResult @requires(fields: "title description tags")
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

/** A representation that passed `_entities`' checks: the key, plus whatever else came. */
interface EntityReference {
  __typename: "CatalogEntity";
  ref: string;
  [field: string]: unknown;
}

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
}

// Echo client input in messages, but not all of it.
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

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
  return rep as EntityReference;
}

/** The @requires fields of a reference, or the error to report when the gateway left them out. */
function entityDocs(entity: EntityReference): EntityDocs {
  const { title, description, tags } = entity;
  const problems: string[] = [];
  if (title !== null && typeof title !== "string") problems.push(`title must be a string or null, got ${show(title)}`);
  if (description !== null && typeof description !== "string") {
    problems.push(`description must be a string or null, got ${show(description)}`);
  }
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) {
    problems.push(`tags must be a list of strings, got ${show(tags)}`);
  }
  if (problems.length > 0) {
    throw badInput(
      `Cannot score ${entity.ref}: ${problems.join("; ")} ` +
        '(the representation must carry the fields of @requires(fields: "title description tags")).',
    );
  }
  return { title: title as string | null, description: description as string | null, tags: tags as string[] };
}

const resolvers = {
  Query: {
    scorecardChecks: () => CHECKS.map(({ id, description }) => ({ id, description })),

    // Replaces the _entities resolver @apollo/subgraph installs, which throws for a whole batch
    // when one representation names an unknown type. Here each bad representation gets its own
    // error at its own index (`_entities.2`) and a null, and the rest of the batch resolves.
    _entities: (
      _source: unknown,
      { representations }: { representations: unknown[] },
      context: unknown,
      info: GraphQLResolveInfo,
    ): unknown[] => {
      const checked = representations.map(checkReference);
      const good = checked.filter((r): r is EntityReference => !(r instanceof GraphQLError));
      const resolved: unknown[] = entitiesResolver({ representations: good, context, info });
      let next = 0;
      // A GraphQLError returned as a list item becomes that item's error (graphql-js and
      // @graphql-tools/executor both throw an Error value where they complete it).
      return checked.map((r) => (r instanceof GraphQLError ? r : resolved[next++]));
    },
  },

  CatalogEntity: {
    // The representation already holds all this subgraph needs: ref and the @requires fields.
    __resolveReference: (reference: EntityReference): EntityReference => reference,
    // Validated here, not in _entities: the gateway sends the @requires fields only when a
    // query selects `scorecard`.
    scorecard: (entity: EntityReference): Scorecard => scorecard(entityDocs(entity)),
  },
} satisfies GraphQLResolverMap<unknown>;

export const schema = buildSubgraphSchema([{ typeDefs, resolvers }]);
