#!/usr/bin/env node
// compose-check: prove that a standard federation gateway can serve the Greenroom
// subgraph, alone and together with a plugin subgraph that extends a catalog entity.
//
//   go run ./cmd/greenroom schema | node gateway/compose-check.mjs
//   node gateway/compose-check.mjs path/to/schema.graphql
//
// The core SDL (what `_service { sdl }` returns) is composed as subgraph "catalog" with
// Apollo's composition (@apollo/composition, what Apollo Router/rover use) and with
// The Guild's (@theguild/federation-composition, what Hive Gateway uses), then again with an
// example "scorecards" plugin subgraph built below from the core SDL. Any composition error,
// and any composition hint not in ALLOWED_HINTS, fails the check (exit 1). Exit 2: bad usage.
// See STYLE.md C17 and DESIGN.md ("plugins").

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  Kind,
  buildASTSchema,
  isIntrospectionType,
  isSpecifiedScalarType,
  parse,
  print,
} from "graphql";
import { composeServices as apolloCompose } from "@apollo/composition";
import { composeServices as guildCompose } from "@theguild/federation-composition";

const CORE = { name: "catalog", url: "http://127.0.0.1:7007/graphql" };
const PLUGIN = { name: "scorecards", url: "http://127.0.0.1:7101/graphql" };
const FEDERATION_VERSION = "v2.3"; // what the example plugin links; C17 requires v2.x in the core

// Composition hints that are expected and harmless. Each entry: the hint code, an optional
// RegExp its message must match, and why it is allowed. Keep it empty unless a hint is
// understood; an unlisted hint fails the check, like an error.
const ALLOWED_HINTS = [
  // { code: "INCONSISTENT_DESCRIPTION", message: /PageInfo/, why: "…" },
];

const require = createRequire(import.meta.url);
const version = (pkg) => require(`${pkg}/package.json`).version;

// ---------------------------------------------------------------- input

// Reads stdin as a stream: readFileSync(0) fails with EAGAIN when stdin is a pipe whose writer
// (`go run`) has not written yet.
async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

// Arguments of the form NAME=FILE are real plugins' SDL files, composed with the core at the end.
const PLUGIN_ARGS = process.argv.slice(2).filter((a) => a.includes("="));

async function readSDL() {
  const args = process.argv.slice(2).filter((a) => !a.includes("="));
  if (args.length > 1 || args[0] === "-h" || args[0] === "--help") {
    console.error("usage: node gateway/compose-check.mjs [schema.graphql]   (or the SDL on stdin)");
    process.exit(2);
  }
  if (args.length === 0 && process.stdin.isTTY) {
    console.error("compose-check: no SDL: pass a file or pipe `go run ./cmd/greenroom schema` into stdin");
    process.exit(2);
  }
  const source = args.length === 1 ? args[0] : "stdin";
  let text;
  try {
    text = args.length === 1 ? readFileSync(args[0], "utf8") : await readStdin();
  } catch (err) {
    fail([`cannot read the core SDL from ${source}: ${err.message}`]);
  }
  if (text.trim() === "") {
    fail([`the core SDL from ${source} is empty (did \`greenroom schema\` fail?)`]);
  }
  return { text, source };
}

function fail(lines) {
  for (const line of lines) console.error(`FAIL ${line}`);
  console.error("compose-check: FAILED");
  process.exit(1);
}

// ---------------------------------------------------------------- reading the core SDL

const BUILT_IN_SCALARS = new Set(["ID", "String", "Int", "Float", "Boolean"]);

function argValue(directive, name) {
  const arg = directive.arguments?.find((a) => a.name.value === name);
  return arg ? arg.value : undefined;
}

function isSchemaNode(def) {
  return def.kind === Kind.SCHEMA_DEFINITION || def.kind === Kind.SCHEMA_EXTENSION;
}

// The federation @link of a subgraph document: its version and the names under which the
// document refers to federation directives (`@key` when imported, `@federation__key` when not,
// or an `as:` rename).
function federationLink(doc) {
  for (const def of doc.definitions.filter(isSchemaNode)) {
    for (const dir of def.directives ?? []) {
      if (dir.name.value !== "link") continue;
      const url = argValue(dir, "url");
      const m = url?.kind === Kind.STRING && /^https:\/\/specs\.apollo\.dev\/federation\/(v\d+\.\d+)/.exec(url.value);
      if (!m) continue;
      const as = argValue(dir, "as");
      const namespace = as?.kind === Kind.STRING ? as.value.replace(/^@/, "") : "federation";
      const imports = new Map();
      const list = argValue(dir, "import");
      for (const item of list?.kind === Kind.LIST ? list.values : []) {
        if (item.kind === Kind.STRING) imports.set(item.value, item.value);
        if (item.kind === Kind.OBJECT) {
          const field = (n) => item.fields.find((f) => f.name.value === n)?.value?.value;
          if (field("name")) imports.set(field("name"), field("as") ?? field("name"));
        }
      }
      const directiveName = (name) => (imports.get(`@${name}`) ?? `@${namespace}__${name}`).replace(/^@/, "");
      return { version: m[1], directiveName };
    }
  }
  return undefined;
}

// All fields of a named type across its definition and extensions.
function typeNodes(doc, name) {
  return doc.definitions.filter((d) => d.name?.value === name && d.kind !== Kind.DIRECTIVE_DEFINITION);
}

function fieldsOf(doc, name) {
  return typeNodes(doc, name).flatMap((d) => d.fields ?? []);
}

function namedType(typeNode) {
  return typeNode.kind === Kind.NAMED_TYPE ? typeNode.name.value : namedType(typeNode.type);
}

// The plugin may only copy leaf types (scalars, enums) from the core: object types would make
// it re-declare part of the core's graph. Returns the definitions to copy, or a reason.
function leafDefinitions(doc, typeName, out = new Map()) {
  if (BUILT_IN_SCALARS.has(typeName) || out.has(typeName)) return out;
  const nodes = typeNodes(doc, typeName);
  if (nodes.length === 0) throw new Error(`type ${typeName} is not defined in the core SDL`);
  if (!nodes.every((n) => [Kind.SCALAR_TYPE_DEFINITION, Kind.ENUM_TYPE_DEFINITION,
    Kind.SCALAR_TYPE_EXTENSION, Kind.ENUM_TYPE_EXTENSION].includes(n.kind))) {
    throw new Error(`type ${typeName} is not a scalar or an enum`);
  }
  out.set(typeName, nodes.map((n) => print(n)).join("\n\n"));
  return out;
}

// The first object type carrying a resolvable @key whose fields are top-level leaf fields.
function findEntity(doc, fed) {
  const keyName = fed.directiveName("key");
  const skipped = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    for (const key of (def.directives ?? []).filter((d) => d.name.value === keyName)) {
      const type = def.name.value;
      const fields = argValue(key, "fields");
      const resolvable = argValue(key, "resolvable");
      if (fields?.kind !== Kind.STRING) continue;
      if (resolvable?.kind === Kind.BOOLEAN && !resolvable.value) {
        skipped.push(`${type} @key(fields: "${fields.value}"): resolvable: false`);
        continue;
      }
      try {
        const selection = parse(`{ ${fields.value} }`).definitions[0].selectionSet.selections;
        const keyFields = [];
        const leaves = new Map();
        for (const sel of selection) {
          if (sel.kind !== Kind.FIELD || sel.selectionSet || sel.alias) {
            throw new Error("nested or aliased key fields");
          }
          const field = fieldsOf(doc, type).find((f) => f.name.value === sel.name.value);
          if (!field) throw new Error(`key field ${sel.name.value} is not a field of ${type}`);
          leafDefinitions(doc, namedType(field.type), leaves);
          keyFields.push(`${field.name.value}: ${print(field.type)}`);
        }
        return { type, key: fields.value, keyFields, leaves, skipped };
      } catch (err) {
        skipped.push(`${type} @key(fields: "${fields.value}"): ${err.message}`);
      }
    }
  }
  return { skipped };
}

// ---------------------------------------------------------------- the example plugin

// A plugin as C17 describes it: own federation link, entity extended by its key, plugin-owned
// types and root fields prefixed with the plugin's name, and (when the core has one) the shared
// PageInfo copied identically and marked @shareable.
function pluginSDL(doc, entity) {
  const leaves = new Map(entity.leaves);
  const pageInfo = typeNodes(doc, "PageInfo").find((n) => n.kind === Kind.OBJECT_TYPE_DEFINITION);
  let sharedPageInfo = "";
  if (pageInfo) {
    for (const f of pageInfo.fields ?? []) leafDefinitions(doc, namedType(f.type), leaves);
    sharedPageInfo = print({
      ...pageInfo,
      directives: [{ kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: "shareable" }, arguments: [] }],
      fields: pageInfo.fields.map((f) => ({ ...f, directives: [] })),
    });
  }
  const ranking = pageInfo
    ? `"Scorecards, best first, a page at a time."
  scorecardsRanking(first: Int = 50, after: String): ScorecardsScorecardConnection!`
    : `"Scorecards, best first."
  scorecardsRanking(first: Int = 50): [ScorecardsScorecard!]!`;
  const connection = pageInfo
    ? `
"A page of scorecards."
type ScorecardsScorecardConnection {
  "The scorecards of this page."
  nodes: [ScorecardsScorecard!]!
  "Where this page stands."
  pageInfo: PageInfo!
}
`
    : "";
  return `extend schema
  @link(url: "https://specs.apollo.dev/federation/${FEDERATION_VERSION}", import: ["@key", "@shareable"])

type ${entity.type} @key(fields: ${JSON.stringify(entity.key)}) {
  ${entity.keyFields.join("\n  ")}
  "The entity's scorecard, or null when none has been computed."
  scorecardsScorecard: ScorecardsScorecard
}

"How well an entity meets the checks of the scorecards plugin."
type ScorecardsScorecard {
  "The entity scored (resolved by the core subgraph)."
  entity: ${entity.type}!
  "The score, from 0 to 100."
  score: Int!
}
${connection}
type Query {
  ${ranking}
}
${sharedPageInfo ? `\n${sharedPageInfo}\n` : ""}${[...leaves.values()].map((l) => `\n${l}\n`).join("")}`;
}

// ---------------------------------------------------------------- composing

function userTypeCount(schema) {
  return Object.values(schema.getTypeMap())
    .filter((t) => !isIntrospectionType(t) && !isSpecifiedScalarType(t)).length;
}

function formatError(e) {
  const code = e.extensions?.code ? `[${e.extensions.code}] ` : "";
  return `${code}${e.message}`;
}

const LIBRARIES = [
  {
    label: "apollo",
    pkg: "@apollo/composition",
    compose(services) {
      const r = apolloCompose(services);
      if (r.errors) return { errors: r.errors.map(formatError), hints: [] };
      return {
        errors: [],
        hints: r.hints.map((h) => ({ code: h.definition.code, level: h.definition.level.name, message: h.message })),
        api: r.schema.toAPISchema().toGraphQLJSSchema(),
      };
    },
  },
  {
    label: "guild",
    pkg: "@theguild/federation-composition",
    compose(services) {
      const r = guildCompose(services);
      if (r.errors) return { errors: r.errors.map(formatError), hints: [] };
      // This library reports no hints: a success is errors: undefined and the SDLs.
      return { errors: [], hints: [], api: buildASTSchema(r.publicDocumentNode) };
    },
  },
];

function isAllowed(hint) {
  return ALLOWED_HINTS.some((a) => a.code === hint.code && (!a.message || a.message.test(hint.message)));
}

// Runs one composition; returns the failure lines (empty on success) and prints the summary.
function run(lib, subgraphs, expect) {
  const names = subgraphs.map((s) => s.name).join("+");
  const where = `${lib.label} (${lib.pkg}@${version(lib.pkg)}) ${names}`;
  const columns = `${lib.label.padEnd(6)} ${`${lib.pkg}@${version(lib.pkg)}`.padEnd(39)} ${names.padEnd(18)}`;
  let result;
  try {
    result = lib.compose(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: s.typeDefs })));
  } catch (err) {
    return [`${where}: composition threw: ${err.stack ?? err}`];
  }
  const problems = result.errors.map((e) => `${where}: error ${e}`);
  for (const h of result.hints) {
    const line = `hint ${h.code} (${h.level}): ${h.message}`;
    if (isAllowed(h)) console.log(`  ${where}: allowed ${line}`);
    else problems.push(`${where}: ${line} (not in ALLOWED_HINTS)`);
  }
  if (result.api) {
    for (const [type, field] of expect) {
      if (!result.api.getType(type)?.getFields?.()[field]) {
        problems.push(`${where}: the supergraph has no ${type}.${field}`);
      }
    }
  }
  if (problems.length === 0) {
    console.log(`ok   ${columns} ${userTypeCount(result.api)} types in the supergraph API`);
  } else {
    console.log(`FAIL ${columns} ${result.errors.length} error(s), ${result.hints.length} hint(s)`);
  }
  return problems;
}

// ---------------------------------------------------------------- main

const { text, source } = await readSDL();
let coreDoc;
try {
  coreDoc = parse(text);
} catch (err) {
  fail([`the core SDL from ${source} does not parse: ${err.message}`]);
}

const problems = [];
const fed = federationLink(coreDoc);
if (!fed) {
  problems.push('catalog: no `extend schema @link(url: "https://specs.apollo.dev/federation/v2.x", ...)`: '
    + "composition would read it as federation 1 (STYLE.md C17)");
} else if (!fed.version.startsWith("v2.")) {
  problems.push(`catalog: links federation ${fed.version}; STYLE.md C17 requires v2.x`);
}

const core = { ...CORE, typeDefs: coreDoc };
for (const lib of LIBRARIES) problems.push(...run(lib, [core], []));

const entity = findEntity(coreDoc, fed ?? { directiveName: (n) => n });
if (!entity.type) {
  problems.push("catalog: no object type with a resolvable @key of leaf fields, so no plugin can extend a "
    + `catalog entity (STYLE.md C17)${entity.skipped.length ? `; skipped: ${entity.skipped.join("; ")}` : ""}`);
} else {
  const sdl = pluginSDL(coreDoc, entity);
  if (process.env.COMPOSE_CHECK_PRINT_PLUGIN) console.log(sdl);
  const plugin = { ...PLUGIN, typeDefs: parse(sdl) };
  console.log(`plugin ${PLUGIN.name} extends ${entity.type} @key(fields: "${entity.key}")`);
  const expect = [[entity.type, "scorecardsScorecard"], ["Query", "scorecardsRanking"]];
  for (const lib of LIBRARIES) problems.push(...run(lib, [core, plugin], expect));
}

// The plugins of this repository, as they are: composed together with the core.
if (PLUGIN_ARGS.length > 0) {
  const plugins = [];
  for (const arg of PLUGIN_ARGS) {
    const [name, file] = [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)];
    try {
      plugins.push({ name, url: `http://127.0.0.1/${name}/graphql`, typeDefs: parse(readFileSync(file, "utf8")) });
    } catch (err) {
      problems.push(`${name}: cannot read ${file}: ${err.message}`);
    }
  }
  if (plugins.length === PLUGIN_ARGS.length) {
    for (const lib of LIBRARIES) problems.push(...run(lib, [core, ...plugins], []));
  }
}

if (problems.length > 0) fail(problems);
console.log("compose-check: ok");
