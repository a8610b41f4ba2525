// Package portal is Greenroom's shared vocabulary: the error codes that every
// layer speaks, so that storage, ingestion and the API agree on what went
// wrong without importing each other.
//
// It imports only the standard library.
package portal
