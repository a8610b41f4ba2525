package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/changefeed"
)

// changeJSON is an event of the change feed as greenroom changes prints it.
type changeJSON struct {
	Position   int64     `json:"position"`
	Operation  string    `json:"operation"`
	Ref        string    `json:"ref"`
	Kind       string    `json:"kind,omitempty"`
	Namespace  string    `json:"namespace,omitempty"`
	LocationID string    `json:"locationId,omitempty"`
	Etag       string    `json:"etag,omitempty"`
	Fields     []string  `json:"fields,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	At         time.Time `json:"at"`
}

// cmdChanges prints the change feed as JSON lines: the events after a
// position, then, with --follow, each new one as it commits, until
// interrupted. It reads the database directly, as a second process does:
// woken by NOTIFY on PostgreSQL, by polling on SQLite.
func cmdChanges(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := newDBCommand("changes", "usage: greenroom changes [--database URL] [--after POSITION|head] [--follow]\n\n"+
		"Prints the change feed, one JSON object per line: what every write changed, in commit order.\n", stderr)
	after := c.fs.String("after", "0", `print the events after this position, or after the last one now ("head")`)
	follow := c.fs.Bool("follow", false, "keep printing new events as they commit, until interrupted")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "greenroom changes: unexpected arguments %s\n", quoteAll(rest))
		return 2
	}
	cfg, db, err := c.open(ctx, getenv)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	var from int64
	if *after == "head" {
		if from, err = db.ChangeHead(ctx); err != nil {
			return c.fail(err)
		}
	} else if from, err = strconv.ParseInt(*after, 10, 64); err != nil {
		fmt.Fprintf(stderr, "greenroom changes: --after %q is neither a position nor head\n", *after)
		return 2
	}
	w := bufio.NewWriter(stdout)
	emit := func(cs []catalog.Change) error {
		for _, c := range cs {
			b, _ := json.Marshal(changeJSON{c.Position, string(c.Op), c.Ref, c.Kind, c.Namespace, c.LocationID, c.Etag, c.Fields, c.Actor, c.At})
			w.Write(append(b, '\n'))
		}
		return w.Flush() // a reader of a pipe sees each page at once
	}
	feed := changefeed.New(db, changefeed.Options{Retention: time.Duration(cfg.ChangeFeed.Retention)})
	if !*follow {
		for {
			cs, err := feed.Read(ctx, from, changefeed.DefaultPage)
			if err == nil && len(cs) > 0 {
				err = emit(cs)
				from = cs[len(cs)-1].Position
				continue
			}
			if err != nil {
				fmt.Fprintln(stderr, "greenroom changes:", err)
				return 1
			}
			return 0
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go feed.Run(ctx)
	if err := feed.Follow(ctx, from, emit); err != nil {
		fmt.Fprintln(stderr, "greenroom changes:", err)
		return 1
	}
	return 0
}
