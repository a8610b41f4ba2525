// The query planner the gateway's runtime executes with (README.md, "Measured").
//
// By default Hive Router's planner: a Rust native addon (@graphql-hive/router-query-planner) run
// by @graphql-hive/router-runtime, which plans each operation once and executes the plan with
// plain objects. The runtime's own planner (stitching: graphql-tools' delegation, resolvers and
// merging for every field of every entity) costs about twice as much per query. The stitching
// planner is used when GREENROOM_GATEWAY_RUNTIME=stitching, or when the addon cannot load on this
// platform (it ships for Linux x64/arm64 with glibc and macOS).
//
// Where Hive Router's executor answers a failed subgraph request differently from the stitching
// planner, usePlacedFetchErrors puts it back as README.md ("A subgraph that fails") says:
//   - a failed fetch of entity fields gives one error at the entities' path without list
//     positions (["entities","edges","node"]), or with no path at all (a timeout): it becomes one
//     error per entity and field the fetch was to resolve (["entities","edges",0,"node","x"]);
//   - a failed root fetch gives one error at its first field: one per root field it was to resolve;
//   - an answer with field errors but no `data` (every fetch failed; the last event of a
//     subscription a swap ends) gets its `data` null-filled as graphql-js would answer it
//     (`{"x": null}`, or `null` when a non-null root field failed).
// These run only for an answer that has errors.

import { execute, GraphQLError, Kind, parse } from "graphql";

const TRANSPORT_CODES = new Set(["SUBREQUEST_HTTP_ERROR", "GATEWAY_TIMEOUT", "RESPONSE_VALIDATION_FAILED"]);

// Returns {name, options, plugins, note}: `options` go to createGatewayRuntime, `plugins` to its
// plugins, `note` (when set) says why the default planner is not used.
export async function loadPlanner(env = process.env) {
  const wanted = env.GREENROOM_GATEWAY_RUNTIME || "router";
  if (wanted !== "router" && wanted !== "stitching") {
    throw new Error(`GREENROOM_GATEWAY_RUNTIME is ${JSON.stringify(wanted)}; want router or stitching`);
  }
  if (wanted === "stitching") return { name: "stitching", options: {}, plugins: [], note: "GREENROOM_GATEWAY_RUNTIME=stitching" };
  try {
    await import("@graphql-hive/router-query-planner"); // the native addon: fails here rather than at the first supergraph
  } catch (err) {
    return { name: "stitching", options: {}, plugins: [], note: `Hive Router's query planner does not load here (${err?.message ?? err})` };
  }
  const { unifiedGraphHandler, useQueryPlan } = await import("@graphql-hive/router-runtime");
  return { name: "router", options: { unifiedGraphHandler }, plugins: [usePlacedFetchErrors(useQueryPlan)] };
}

function isAsyncIterable(value) {
  return typeof value?.[Symbol.asyncIterator] === "function";
}

// The plan of an operation is read through useQueryPlan's onQueryPlan, which it calls from its
// onExecuteDone with the plan the executor kept for that context; only when there are errors.
export function usePlacedFetchErrors(useQueryPlan) {
  let captured;
  const queryPlan = useQueryPlan({ onQueryPlan: (plan) => (captured = plan) });
  function planOf(args) {
    captured = undefined;
    queryPlan.onExecute({ context: args.contextValue, args }).onExecuteDone({ args, result: {}, setResult() {} });
    const plan = captured;
    captured = undefined;
    return plan;
  }
  return {
    onExecute() {
      return {
        onExecuteDone({ args, result, setResult }) {
          if (isAsyncIterable(result) || !result?.errors?.length) return;
          const plan = planOf(args);
          if (plan) setResult(placeErrors(result, plan, args));
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ args, result }) {
          if (!isAsyncIterable(result)) return undefined;
          let plan;
          return {
            onNext({ result: event, setResult }) {
              if (!event?.errors?.length) return;
              plan ??= planOf(args);
              if (plan) setResult(placeErrors(event, plan, args));
            },
          };
        },
      };
    },
  };
}

function placeErrors(result, plan, args) {
  let data = result.data;
  // Field errors (with a path or a subgraph) but no data: every fetch failed.
  if (data === undefined && result.errors.some((e) => e?.path?.length || e?.extensions?.serviceName)) data = nullData(args);
  const targets = fetchTargets(plan);
  const errors = [];
  let changed = data !== result.data;
  for (const error of result.errors) {
    const placed = place(error, targets, data);
    if (placed) {
      errors.push(...placed);
      changed = true;
    } else {
      errors.push(error);
    }
  }
  return changed ? { ...result, data, errors } : result;
}

// The operation's data with every field null, as graphql-js answers when every resolver returns
// null (null propagating from non-null fields); for a subscription, that of one event.
function nullData(args) {
  try {
    const r = execute({
      schema: args.schema,
      document: args.document,
      variableValues: args.variableValues,
      operationName: args.operationName,
      rootValue: {},
      contextValue: {},
      fieldResolver: () => null,
    });
    return typeof r?.then === "function" ? undefined : r?.data;
  } catch {
    return undefined;
  }
}

// The errors an error of a failed fetch stands for, one per field left null that the fetch was to
// resolve; null when it is not such an error (it keeps its place).
function place(error, targets, data) {
  const service = error?.extensions?.serviceName;
  if (typeof service !== "string") return null;
  const code = error.extensions.code;
  const paths = [];
  for (const t of targets) {
    if (t.service === service && unplaced(error.path, t, code)) nullFields(data, t, paths);
  }
  if (paths.length === 0) return null;
  return paths.map((path) => new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
  }));
}

// Whether an error's path is where the executor puts a failure of the fetch as a whole.
function unplaced(path, target, code) {
  if (!path || path.length === 0) return true;
  if (target.fieldPath) return path.length === target.fieldPath.length && path.every((p, i) => p === target.fieldPath[i]);
  return TRANSPORT_CODES.has(code) && path.length === 1 && path[0] === target.keys[0];
}

function nullFields(data, target, out) {
  if (!target.path) {
    for (const key of target.keys) if (data == null || data[key] === null) out.push([key]);
    return;
  }
  walk(data, target.path, 0, [], (entity, at) => {
    for (const key of target.keys) if (Object.hasOwn(entity, key) && entity[key] === null) out.push([...at, key]);
  });
}

// Visits the objects at a Flatten path ([{Field}, "@", {TypeCondition}, …]) of the answer, with
// their paths. A type condition is not checked: only an object of that type has the fields.
function walk(value, segments, i, at, visit) {
  if (value === null || typeof value !== "object") return;
  const segment = segments[i];
  if (Array.isArray(value)) {
    const next = segment === "@" ? i + 1 : i;
    for (let j = 0; j < value.length; j++) walk(value[j], segments, next, [...at, j], visit);
    return;
  }
  if (i === segments.length) {
    visit(value, at);
    return;
  }
  if (segment === "@") return;
  if (segment && typeof segment === "object" && "Field" in segment) {
    walk(value[segment.Field], segments, i + 1, [...at, segment.Field], visit);
    return;
  }
  walk(value, segments, i + 1, at, visit);
}

// ---------------------------------------------------------------- the fetches of a plan

const targetsByPlan = new WeakMap(); // plan → [{service, path, fieldPath, keys}]

function fetchTargets(plan) {
  let targets = targetsByPlan.get(plan);
  if (!targets) {
    targets = [];
    collectTargets(plan?.node, null, targets);
    targetsByPlan.set(plan, targets);
  }
  return targets;
}

function collectTargets(node, flattenPath, out) {
  if (!node || typeof node !== "object") return;
  switch (node.kind) {
    case "Sequence":
    case "Parallel":
      for (const n of node.nodes ?? []) collectTargets(n, flattenPath, out);
      return;
    case "Flatten":
      collectTargets(node.node, node.path ?? [], out);
      return;
    case "Condition":
      collectTargets(node.ifClause, flattenPath, out);
      collectTargets(node.elseClause, flattenPath, out);
      return;
    case "Subscription":
      collectTargets(node.primary, flattenPath, out);
      collectTargets(node.rest, flattenPath, out);
      return;
    case "Fetch": {
      const keys = operationKeys(node.operation, flattenPath ? "_entities" : null);
      if (keys) out.push(target(node.serviceName, flattenPath, keys));
      return;
    }
    case "BatchFetch":
      for (const alias of node.entityBatch?.aliases ?? []) {
        const keys = operationKeys(node.operation, alias.alias);
        if (keys) for (const p of alias.paths ?? []) out.push(target(node.serviceName, p, keys));
      }
  }
}

function target(service, path, keys) {
  const fieldPath = path ? path.filter((s) => s && typeof s === "object" && "Field" in s).map((s) => s.Field) : null;
  return { service, path, fieldPath, keys };
}

// The response keys a fetch's operation selects at its root, or under its root field `under`
// (`_entities`, or a batch's alias), __typename aside.
function operationKeys(operation, under) {
  let doc;
  try {
    doc = parse(operation, { noLocation: true });
  } catch {
    return null;
  }
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!op) return null;
  const fragments = new Map(doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  let set = op.selectionSet;
  if (under) {
    set = fieldsOf(set, fragments).find((f) => (f.alias?.value ?? f.name.value) === under)?.selectionSet;
    if (!set) return null;
  }
  return [...new Set(fieldsOf(set, fragments).map((f) => f.alias?.value ?? f.name.value))].filter((k) => k !== "__typename");
}

function fieldsOf(set, fragments, out = [], seen = new Set()) {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) out.push(s);
    else if (s.kind === Kind.INLINE_FRAGMENT) fieldsOf(s.selectionSet, fragments, out, seen);
    else if (s.kind === Kind.FRAGMENT_SPREAD && fragments.has(s.name.value) && !seen.has(s.name.value)) {
      seen.add(s.name.value);
      fieldsOf(fragments.get(s.name.value).selectionSet, fragments, out, seen);
    }
  }
  return out;
}
