package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/store"
)

// ownedList lists the components one group owns: a filtered list with an
// ownership condition.
const ownedList = `query($owner:String!){ entities(filter:{kind:["Component"], owner:[$owner]}, first:100){ totalCount edges{ node{ ref name ... on Component { owner{ name } } } } } }`

// benchOwner is a user of the generated catalog and a group it is a member
// of, which owns components.
type benchOwner struct {
	user, group string
}

// pickOwner finds a user whose group owns components.
func pickOwner(ctx context.Context, dsn string) (benchOwner, error) {
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return benchOwner{}, err
	}
	defer db.Close()
	page, err := db.FindEntities(ctx, catalog.EntityQuery{Filter: catalog.EntityFilter{Kinds: []string{"User"}}, Limit: 200})
	if err != nil {
		return benchOwner{}, err
	}
	for _, u := range page.Records {
		rows, err := db.RelationsBySources(ctx, []string{u.Ref}, []string{catalog.RelationMemberOf})
		if err != nil {
			return benchOwner{}, err
		}
		for _, row := range rows {
			n, err := db.CountEntities(ctx, catalog.EntityFilter{Kinds: []string{"Component"}, Owners: []string{row.Target}})
			if err != nil {
				return benchOwner{}, err
			}
			if n > 0 {
				return benchOwner{user: u.Ref, group: row.Target}, nil
			}
		}
	}
	return benchOwner{}, errors.New("no user is a member of a group that owns components")
}

// measureAuth measures the cost of authentication and the permission
// policy: entity(ref) throughput with 8 clients and a list filtered by
// owner, on the development-mode server already running (dev) and on a
// second server, started beside it on the same database with an HS256
// secret and examples/policy.yaml, where every request carries a signed
// token. The targets: throughput within 15% of the figure without
// auth, the list's p50 within 25%.
//
// The speed of a shared machine drifts by tens of percent within a minute,
// more than the cost measured; so the two servers are measured in turns,
// authSlices short slices each, and each figure sums its slices.
func (b *bench) measureAuth(ctx context.Context, dev *server, database string, n int, dsn, location string, refs []string,
	owner benchOwner) []apiResult {
	fail := func(err error) []apiResult {
		return []apiResult{{database: database, entities: n, query: "(auth)", failure: err.Error()}}
	}
	key := make([]byte, 32)
	rand.Read(key)
	secret := hex.EncodeToString(key)
	token, err := auth.MintDevToken(secret, auth.MintOptions{Subject: owner.user, TTL: time.Hour})
	if err != nil {
		return fail(err)
	}
	sec, err := b.startServer(ctx, dsn, location, []string{"--policy", "examples/policy.yaml"}, "GREENROOM_AUTH_SECRET="+secret)
	if err != nil {
		return fail(err)
	}
	defer sec.stop()
	sec.token = token
	fmt.Printf("%s api: as %s (member of %s) with a signed token and examples/policy.yaml, in turns with the development-mode server\n",
		database, owner.user, owner.group)

	entity := apiCase{
		query:   entityQuery,
		vars:    func(i int) map[string]any { return map[string]any{"ref": refs[i%len(refs)]} },
		clients: loadClients, warm: len(refs), runs: 1 << 20, time: loadTime / authSlices, check: checkEntity,
	}
	list := apiCase{
		query:   ownedList,
		vars:    func(int) map[string]any { return map[string]any{"owner": owner.group} },
		clients: 1, warm: 20, runs: listRuns * 10 / authSlices, time: maxTime, check: checkSome,
	}
	entityName := fmt.Sprintf("entity(ref) + relations, %d clients", loadClients)
	listName := "components owned by a group, 1 client"
	var devEntity, secEntity, devList, secList []apiResult
	for range authSlices {
		for _, m := range []struct {
			srv          *server
			entity, list *[]apiResult
		}{{dev, &devEntity, &devList}, {sec, &secEntity, &secList}} {
			*m.entity = append(*m.entity, m.srv.measure(ctx, entity))
			*m.list = append(*m.list, m.srv.measure(ctx, list))
		}
	}
	out := []apiResult{
		combine(database, n, entityName+", no auth", devEntity),
		combine(database, n, listName+", no auth", devList),
		combine(database, n, "auth: "+entityName, secEntity),
		combine(database, n, "auth: "+listName, secList),
	}
	base, r := out[0], &out[2]
	if r.failure == "" && base.failure == "" {
		r.note = fmt.Sprintf("(%.0f%% of %.0f req/s without auth)", 100*r.rps/base.rps, base.rps)
		if n == apiTargetEntities {
			r.target, r.pass = "≥ 85% of no-auth req/s", r.rps >= 0.85*base.rps
		}
	}
	baseList, lr := out[1], &out[3]
	if lr.failure == "" && baseList.failure == "" {
		lr.note = fmt.Sprintf("(p50 %s without auth)", ms(baseList.p50))
		if n == apiTargetEntities {
			lr.target, lr.pass = "p50 ≤ 125% of no-auth", float64(lr.p50) <= 1.25*float64(baseList.p50)
		}
	}
	for _, r := range out {
		if r.failure != "" {
			fmt.Printf("%s api: %s: FAILED: %s\n", database, r.query, r.failure)
		} else {
			fmt.Printf("%s api: %s: %d requests, p50 %s, p99 %s, %.0f req/s %s\n",
				database, r.query, r.runs, ms(r.p50), ms(r.p99), r.rps, r.note)
		}
	}
	return out
}

// authSlices is how many turns each server gets in measureAuth.
const authSlices = 5

// combine sums the slices of one measurement: requests and time add up,
// and the percentiles are taken over every request's latency.
func combine(database string, n int, name string, parts []apiResult) apiResult {
	r := apiResult{database: database, entities: n, query: name}
	var lat []time.Duration
	var busy time.Duration
	for _, s := range parts {
		if s.failure != "" {
			r.failure = s.failure
			return r
		}
		lat = append(lat, s.latencies...)
		busy += s.elapsed
	}
	if len(lat) == 0 || busy <= 0 {
		r.failure = "no request completed"
		return r
	}
	slices.Sort(lat)
	r.runs, r.clients = len(lat), parts[0].clients
	r.p50, r.p99 = percentile(lat, 50), percentile(lat, 99)
	r.rps = float64(len(lat)) / busy.Seconds()
	return r
}

// checkSome wants a non-empty list.
func checkSome(data []byte) (string, error) {
	if n, err := checkEdgesCount(data); err != nil || n == 0 {
		return "", fmt.Errorf("no entities listed (%v): %s", err, clip(data))
	}
	return "", nil
}
