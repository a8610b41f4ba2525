package gateway_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// screen is the 100-component screen of issue 13: core fields and one
// plugin field per component. alone is the same screen without the
// plugin's field, as the core alone serves it.
const (
	screen = `{ entities(first: 100, filter: {kind: ["Component"]}) { edges { node { ref name title
		... on Component { lifecycle owner { ref } } techRadarEntries { id title } } } } }`
	alone = `{ entities(first: 100, filter: {kind: ["Component"]}) { edges { node { ref name title
		... on Component { lifecycle owner { ref } } } } } }`
)

// BenchmarkScreen measures the screen through the gateway against the
// core alone, the plugin's _entities calls per query, and the gateway's
// start time and memory (make bench).
//
//	go test ./gateway -run '^$' -bench Screen -benchtime 1x
func BenchmarkScreen(b *testing.B) {
	p := startPortal(b)
	const n = 300
	timeIt := func(do func() (response, error)) []time.Duration {
		out := make([]time.Duration, 0, n)
		for i := range n + 30 {
			start := time.Now()
			res, err := do()
			if err != nil || len(res.Errors) > 0 {
				b.Fatalf("%v %+v", err, res.Errors)
			}
			if i >= 30 { // warm-up
				out = append(out, time.Since(start))
			}
		}
		slices.Sort(out)
		return out
	}
	for b.Loop() {
		post := func(url, q string) func() (response, error) {
			return func() (response, error) { return postTo(url, p.userToken, q) }
		}
		core := timeIt(post(p.coreURL, alone))
		coreOnly := timeIt(post(p.gatewayURL, alone))
		before := p.entitiesCalls.Load()
		gw := timeIt(post(p.gatewayURL, screen))
		calls := float64(p.entitiesCalls.Load()-before) / float64(n+30)
		// The plugin's part: the screen's _entities request, as the
		// gateway sent it, straight to the plugin.
		var body map[string]any
		json.Unmarshal(p.lastEntities.Load().([]byte), &body)
		query, _ := body["query"].(string)
		vars, _ := body["variables"].(map[string]any)
		plugin := timeIt(func() (response, error) { return postVars("http://"+p.radarAddr+"/graphql", p.userToken, query, vars) })
		pct := func(d []time.Duration, q float64) float64 {
			return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
		}
		rss := rssMiB(p.gateway.cmd.Process.Pid)
		b.ReportMetric(pct(core, .5), "core-p50-ms")
		b.ReportMetric(pct(coreOnly, .5), "gateway-core-only-p50-ms")
		b.ReportMetric(pct(gw, .5), "gateway-p50-ms")
		b.ReportMetric(pct(gw, .5)/pct(core, .5), "p50-ratio")
		b.ReportMetric(pct(plugin, .5), "plugin-entities-p50-ms")
		b.ReportMetric(calls, "entities-calls/query")
		b.ReportMetric(rss, "gateway-rss-MiB")
		b.ReportMetric(p.gatewayStart.Seconds(), "gateway-start-s")
		fmt.Printf("100-component screen: core alone p50 %.1f ms p99 %.1f ms; the same through the gateway p50 %.1f ms p99 %.1f ms; "+
			"through the gateway with techRadarEntries p50 %.1f ms p99 %.1f ms (%.2f× the core alone, %.2f× the gateway without the plugin); "+
			"%.2f _entities calls to the plugin per query, which takes the plugin p50 %.1f ms by itself; gateway start %.2f s, RSS %.0f MiB\n",
			pct(core, .5), pct(core, .99), pct(coreOnly, .5), pct(coreOnly, .99), pct(gw, .5), pct(gw, .99),
			pct(gw, .5)/pct(core, .5), pct(gw, .5)/pct(coreOnly, .5), calls, pct(plugin, .5), p.gatewayStart.Seconds(), rss)
	}
}

// rssMiB reads a process's resident memory from /proc; 0 where there is none.
func rssMiB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
