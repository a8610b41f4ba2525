package main

// Backstage beside Greenroom. The -backstage flag times a Backstage catalog
// backend that runs apart from the bench, since it is not part of the
// repository. How it was run for the figures in the README (2026-12-07):
// npm packages @backstage/backend-defaults 0.19.0 and
// @backstage/plugin-catalog-backend 4.0.5 (better-sqlite3 12.11.1 built
// from source with npm_config_nodedir=/usr, or pg), a script of three
// lines — createBackend(), add the catalog plugin, start — and an
// app-config.yaml with backend.auth.dangerouslyDisableDefaultAuthPolicy
// (reads without a token, as the bench's development-mode server), catalog
// rules allowing every kind and one file location: the all.yaml that
// gen_catalog.py writes with its defaults, the catalog the bench ingests at
// the same size. Once Backstage has processed every entity (about three
// minutes for 10,000 on SQLite here), restart it with
// catalog.processingInterval: false, so that reprocessing does not run
// while it is timed; the bench checks both count the same components.
// At 100,000 entities Backstage cannot take gen_catalog.py's all.yaml as one
// location: it looks up the references to every entity a location emitted
// in one statement with a bind variable each, over SQLite's 32,766 (and
// PostgreSQL's 65,535), and retries it for ever. Point it at a location
// file listing four locations of 500 of all.yaml's targets each; it took
// 41 minutes to process them here (niced, with other work beside it).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// compareRounds and compareRun: the whole pages are timed side by side in
// rounds, each server compareRun times a round in turn, so that a busy
// moment of the shared machine falls on both alike rather than on whichever
// ran then.
const (
	compareRounds = 10
	compareRun    = 20
)

// compareBackstage times the page of 500 whole components from a running
// Backstage catalog backend (at backstage, its base URL) beside the same
// page from srv — Backstage's REST by-query and Greenroom's REST and
// GraphQL documents — alternating as compareRounds says. It measures
// only when Backstage holds as many components as Greenroom, since the
// two must serve the same generated catalog; the target is then half of
// Backstage's p50 as measured, the "2× faster".
func compareBackstage(ctx context.Context, srv *server, backstage, database string, n int) []apiResult {
	bs := &server{url: backstage, client: &http.Client{
		Timeout: time.Minute, Transport: &http.Transport{DisableCompression: true}}}
	fail := func(err error) []apiResult {
		fmt.Printf("%s backstage: FAILED: %v\n", database, err)
		return []apiResult{{database: database, entities: n, query: "Backstage side by side", failure: err.Error()}}
	}
	count := func(s *server) (int, error) {
		body, _, err := s.get(ctx, "/api/catalog/entities/by-query?filter=kind=component&limit=1")
		if err != nil {
			return 0, err
		}
		var v struct {
			TotalItems int `json:"totalItems"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return 0, fmt.Errorf("by-query: %v", err)
		}
		return v.TotalItems, nil
	}
	theirs, err := count(bs)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", backstage, err))
	}
	ours, err := count(srv)
	if err != nil {
		return fail(err)
	}
	if theirs != ours {
		fmt.Printf("%s backstage: skipped at %d entities: Backstage at %s holds %d components, Greenroom %d (not the same catalog)\n",
			database, n, backstage, theirs, ours)
		return nil
	}
	components := min(500, ours)
	document, _ := json.Marshal(map[string]any{"query": wholeQ})
	sides := []struct {
		name  string
		send  func(check bool) ([]byte, time.Duration, error) // check: return what the check reads
		check func([]byte) (string, error)
	}{
		{"Backstage REST by-query 500 whole components", func(bool) ([]byte, time.Duration, error) { return bs.get(ctx, restWhole) },
			checkItems(components)},
		{"Greenroom REST by-query 500 whole components", func(bool) ([]byte, time.Duration, error) { return srv.get(ctx, restWhole) },
			checkItems(components)},
		{"Greenroom 500 whole components (documents)", func(check bool) ([]byte, time.Duration, error) { return srv.post(ctx, document, check) },
			checkDocuments(components)},
	}
	lat := make([][]time.Duration, len(sides))
	for i, s := range sides {
		for range 5 { // warm-up, checked
			data, _, err := s.send(true)
			if err == nil {
				_, err = s.check(data)
			}
			if err != nil {
				return fail(fmt.Errorf("%s: warm-up: %w", s.name, err))
			}
		}
		lat[i] = make([]time.Duration, 0, compareRounds*compareRun)
	}
	for range compareRounds {
		for i, s := range sides {
			for range compareRun {
				if ctx.Err() != nil {
					return fail(ctx.Err())
				}
				_, d, err := s.send(false)
				if err != nil {
					return fail(fmt.Errorf("%s: %w", s.name, err))
				}
				lat[i] = append(lat[i], d)
			}
		}
	}
	out := make([]apiResult, len(sides))
	for i, s := range sides {
		l := lat[i]
		slices.Sort(l)
		out[i] = apiResult{database: database, entities: n, query: s.name + ", side by side", runs: len(l), clients: 1,
			p50: percentile(l, 50), p99: percentile(l, 99), latencies: l}
	}
	target := out[0].p50 / 2
	for i := range out[1:] {
		r := &out[i+1]
		r.target, r.pass = "p50 < "+ms(target)+" (half Backstage's here)", r.p50 < target
		r.note = fmt.Sprintf("(%.1f× faster than Backstage's page)", float64(out[0].p50)/float64(r.p50))
	}
	for _, r := range out {
		fmt.Printf("%s api: %s: %d requests, p50 %s, p99 %s %s\n", database, r.query, r.runs, ms(r.p50), ms(r.p99), r.note)
	}
	return out
}
