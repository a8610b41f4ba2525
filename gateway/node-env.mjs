// Imported first by server.mjs, before graphql-js loads: graphql-js reads NODE_ENV once, when it
// loads, and outside "production" every instanceof test of a schema type that fails also compares
// constructor names (to warn of two copies of graphql in one process), on every field of every
// query. The gateway has one copy. A NODE_ENV the caller sets wins. Nothing else the gateway loads
// reads "production" (graphql-yoga and envelop look for "development" and "test" only).
process.env.NODE_ENV ??= "production";
