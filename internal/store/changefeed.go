package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/portal"
)

// The change feed is the table change_feed: every transaction that changes
// entities, relations or locations appends, as its last statements, one
// event per entity or location it changed (appendChanges). Readers read it
// by position (ReadChanges) and are woken by WatchChanges.
//
// Positions are taken from the one row of change_feed_head: the writer
// adds the number of its events to the row's position, inside its
// transaction, and numbers its events up to the new value. The UPDATE locks
// the row until the transaction ends, so a second writer's UPDATE waits
// until the first has committed, and then reads the first one's value; had
// the first rolled back, the second reads the value from before it. Hence,
// for any two committed writers, the one with the smaller positions
// committed first, and the positions of committed events have no gaps.
// PostgreSQL makes a transaction visible to new snapshots before it
// releases its locks (ProcArrayEndTransaction precedes the release of locks
// in CommitTransaction), so by the time a reader sees position N, every
// position below N is visible too: a reader that has read everything up to
// N and asks for what is after N never misses an event that commits later
// with a smaller number, because there is none. A sequence would not do:
// nextval is not transactional, so a writer holding 5 may commit after one
// holding 6 has been read, and a reader that moved past 6 would never see 5.
//
// The price is that writers take turns from their append to their commit;
// appendChanges is therefore the last thing a transaction does, and the
// turn lasts a few statements. On SQLite the database's one writer already
// takes turns for the whole transaction (BEGIN IMMEDIATE), so the order of
// positions is the order of commits there too.
//
// On PostgreSQL the transaction also sends NOTIFY greenroom_changes with its
// last position as the payload; notifications are delivered after commit,
// in commit order. Within a process, a commit wakes the watchers at once
// (broadcast); on SQLite other processes are seen by polling the head row
// every feedPoll.

// notifyChannel is the PostgreSQL channel the feed's notifications use.
const notifyChannel = "greenroom_changes"

// feedPoll is how often a SQLite watcher, and the read cache on either
// database, look at the feed's head for the writes of other processes.
const feedPoll = 100 * time.Millisecond

// MaxChangesPage is the most events [DB.ReadChanges] returns at once.
const MaxChangesPage = 10_000

var changeTable = newBulkTable("change_feed", 500, "",
	"position", "operation", "ref", "kind", "namespace", "location_id", "etag", "fields", "actor", "at")

// actorOf is the actor of a write made for the principal in ctx: its ref,
// or "" when there is none (the server itself, applying its configuration).
func actorOf(ctx context.Context) string {
	return portal.PrincipalFromContext(ctx).Ref
}

// appendChanges gives changes their positions and time, sets their actor,
// and writes them in tx. It must be the last write of tx: from here to the
// commit, other writers wait (see the comment at the top of this file).
// After the commit, call [DB.committed] with the same changes.
func (db *DB) appendChanges(ctx context.Context, tx *sqlx.Tx, actor string, changes []catalog.Change) error {
	if len(changes) == 0 {
		return nil
	}
	// The versions go first: from the head's UPDATE to the commit other
	// writers wait, and copying a part's entities there took their p99
	// past 50 ms on PostgreSQL.
	at := db.now()
	if err := db.recordHistory(ctx, tx, actor, at, changes); err != nil {
		return err
	}
	var last int64
	if err := tx.GetContext(ctx, &last, tx.Rebind(`
		UPDATE change_feed_head SET position = position + ? WHERE id = 1 RETURNING position`), len(changes)); err != nil {
		return fmt.Errorf("store: change feed position: %w", formatError(err))
	}
	first := last - int64(len(changes)) + 1
	fields := make([]string, len(changes))
	for i := range changes {
		c := &changes[i]
		c.Position, c.At, c.Actor = first+int64(i), at, actor
		fields[i] = "[]"
		if len(c.Fields) > 0 {
			b, _ := json.Marshal(c.Fields) // strings always marshal
			fields[i] = string(b)
		}
	}
	row := func(dst []any, i int) []any {
		c := &changes[i]
		return append(dst, c.Position, string(c.Op), c.Ref, c.Kind, c.Namespace, c.LocationID, c.Etag, fields[i], c.Actor, c.At)
	}
	if err := db.d.insertNew(ctx, tx, changeTable, len(changes), row); err != nil {
		return fmt.Errorf("store: append changes: %w", err)
	}
	return db.d.notify(ctx, tx, last)
}

// committed is what follows the commit of a transaction that appended
// changes: this process's read cache drops what they changed, and this
// process's watchers wake.
func (db *DB) committed(ctx context.Context, changes []catalog.Change) {
	if len(changes) == 0 {
		return
	}
	db.invalidate(ctx, changes)
	db.watchers.broadcast(changes[len(changes)-1].Position)
}

// changeRow is a row of change_feed.
type changeRow struct {
	Position   int64     `db:"position"`
	Op         string    `db:"operation"`
	Ref        string    `db:"ref"`
	Kind       string    `db:"kind"`
	Namespace  string    `db:"namespace"`
	LocationID string    `db:"location_id"`
	Etag       string    `db:"etag"`
	Fields     string    `db:"fields"`
	Actor      string    `db:"actor"`
	At         time.Time `db:"at"`
}

func (r changeRow) toCatalog() (catalog.Change, error) {
	c := catalog.Change{Position: r.Position, Op: catalog.ChangeOp(r.Op), Ref: r.Ref, Kind: r.Kind, Namespace: r.Namespace,
		LocationID: r.LocationID, Etag: r.Etag, Actor: r.Actor, At: r.At.UTC()}
	if err := json.Unmarshal([]byte(r.Fields), &c.Fields); err != nil {
		return c, fmt.Errorf("store: change %d: fields: %w", r.Position, err)
	}
	if len(c.Fields) == 0 {
		c.Fields = nil
	}
	return c, nil
}

// feedHead is the row of change_feed_head.
type feedHead struct {
	Position int64 `db:"position"`
	Pruned   int64 `db:"pruned"`
}

func (db *DB) feedHead(ctx context.Context) (feedHead, error) {
	var h feedHead
	// Not counted in ReadStatements: watchers and the cache ask on the
	// clock, not per request.
	if err := db.r.DB.GetContext(ctx, &h, `SELECT position, pruned FROM change_feed_head WHERE id = 1`); err != nil {
		return h, fmt.Errorf("store: change feed head: %w", formatError(err))
	}
	return h, nil
}

// ChangeHead returns the position of the last event in the change feed, 0
// when there is none yet.
func (db *DB) ChangeHead(ctx context.Context) (int64, error) {
	h, err := db.feedHead(ctx)
	return h.Position, err
}

// ReadChanges returns the events of the change feed after position after,
// in order, at most limit of them (at most [MaxChangesPage]; limit <= 0
// means that many). Every event before the last one returned has been
// committed, and no event will ever be appended with a smaller position:
// reading again after the last position returned misses nothing.
//
// Returns EEXPIRED when events after after have been pruned (the feed's
// retention): the reader must read the catalog again and follow from
// [DB.ChangeHead]. Returns EINVALID when after is negative or beyond the
// last position: a position from another database.
func (db *DB) ReadChanges(ctx context.Context, after int64, limit int) ([]catalog.Change, error) {
	if after < 0 {
		return nil, portal.Errorf(portal.EINVALID, "change feed position %d is negative", after)
	}
	if limit <= 0 || limit > MaxChangesPage {
		limit = MaxChangesPage
	}
	var rows []changeRow
	if err := db.r.SelectContext(ctx, &rows, db.r.Rebind(`
		SELECT position, operation, ref, kind, namespace, location_id, etag, fields, actor, at
		FROM change_feed WHERE position > ? ORDER BY position LIMIT ?`), after, limit); err != nil {
		return nil, fmt.Errorf("store: read changes: %w", formatError(err))
	}
	// The head is read after the rows: pruning commits its deletions and
	// its mark together, so rows read before it are whole, and a mark read
	// after them covers any deletion they missed.
	h, err := db.feedHead(ctx)
	if err != nil {
		return nil, err
	}
	if after < h.Pruned {
		return nil, portal.Errorf(portal.EEXPIRED,
			"change feed position %d is older than the feed keeps (events up to %d were pruned): read the catalog again and follow from position %d",
			after, h.Pruned, h.Position)
	}
	if after > h.Position {
		return nil, portal.Errorf(portal.EINVALID, "change feed position %d is beyond the feed's last position %d", after, h.Position)
	}
	out := make([]catalog.Change, len(rows))
	for i, r := range rows {
		if out[i], err = r.toCatalog(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PruneChanges deletes the events appended before before, and returns
// the last position it deleted (0 when it deleted none). Readers asking
// for positions below it get EEXPIRED from then on.
func (db *DB) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, formatError(err)
	}
	defer tx.Rollback()
	var last int64
	if err := tx.GetContext(ctx, &last, tx.Rebind(`
		SELECT COALESCE(MAX(position), 0) FROM change_feed WHERE at < ?`), before.UTC()); err != nil {
		return 0, fmt.Errorf("store: prune changes: %w", formatError(err))
	}
	if last == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM change_feed WHERE position <= ?`), last); err != nil {
		return 0, fmt.Errorf("store: prune changes: %w", formatError(err))
	}
	// Last, as it locks the head row that writers take turns on.
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE change_feed_head SET pruned = ? WHERE id = 1 AND pruned < ?`), last, last); err != nil {
		return 0, fmt.Errorf("store: prune changes: %w", formatError(err))
	}
	if err := tx.Commit(); err != nil {
		return 0, formatError(err)
	}
	return last, nil
}

// WatchChanges calls wake with a position whenever changes up to it have
// been committed, by this process or another, until ctx ends; it calls it
// once with the current head first. Positions may repeat and arrive out of
// order; a watcher reads the feed after what it has read, up to any
// position it was given. This process's commits wake it at once; other
// processes' through PostgreSQL's LISTEN, or SQLite's head polled every
// 100 ms. It returns nil when ctx ends, or the error that stopped it.
func (db *DB) WatchChanges(ctx context.Context, wake func(position int64)) error {
	id := db.watchers.add(wake)
	defer db.watchers.remove(id)
	h, err := db.feedHead(ctx)
	if err != nil {
		return err
	}
	wake(h.Position)
	err = db.d.watch(ctx, db, wake)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// watchers are the functions this process's commits wake.
type watchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(int64)
}

func (w *watchers) add(fn func(int64)) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = map[int]func(int64){}
	}
	w.next++
	w.fns[w.next] = fn
	return w.next
}

func (w *watchers) remove(id int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.fns, id)
}

func (w *watchers) broadcast(position int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, fn := range w.fns {
		fn(position)
	}
}

// pollHead calls wake with the feed's head every feedPoll when it moved,
// until ctx ends: how a SQLite watcher sees other processes' commits.
func (db *DB) pollHead(ctx context.Context, wake func(int64)) error {
	t := time.NewTicker(feedPoll)
	defer t.Stop()
	last := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		h, err := db.feedHead(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			db.log.WarnContext(ctx, "change feed: reading the head failed", "err", err)
			continue
		}
		if h.Position != last {
			last = h.Position
			wake(last)
		}
	}
}

// parsePosition reads a notification's payload.
func parsePosition(payload string) (int64, error) {
	p, err := strconv.ParseInt(payload, 10, 64)
	if err != nil || p < 0 {
		return 0, errors.New("store: malformed change feed notification " + strconv.Quote(payload))
	}
	return p, nil
}
