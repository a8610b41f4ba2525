// Package app holds Greenroom's services: the operations every transport
// offers, each of which authorizes the caller with the permission policy,
// validates its input, does its work, records an audit event and returns
// portal errors. The GraphQL resolvers, the greenroom commands and jobs
// call the same methods, so no transport can skip a check or leave a
// change unaudited: a mutation run from the API and the same change run
// with `greenroom locations add` leave the same audit record, differing
// only in who acted.
//
// The caller is the [portal.Principal] in the context: the API puts the
// token's principal there, a greenroom command the operator (cli:<OS user>,
// whom no policy limits; see [policy.Policy.Decide]), and a job the
// principal that created it.
//
// Reads are the access guard's (internal/access), which narrows every
// query by the read policy in SQL; [Catalog] offers them beside the
// mutations so that a transport holds one service.
//
// [Jobs] lists and cancels background jobs (internal/jobs) behind a
// permission about no entity each, and shows them as [Job]s, with their
// arguments redacted, so that no transport deals in River's types.
//
// [New] is the one place services are put together from a store, an
// ingestion engine, a job queue and a policy; greenroom serve, greenroom
// commands and the tests all call it.
package app
