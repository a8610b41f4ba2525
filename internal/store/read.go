package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
)

// maxPrepared bounds the statements a read pool keeps prepared: queries
// with IN lists have one text per list length, and only the common ones are
// worth keeping.
const maxPrepared = 512

// readPool is the read side of the database. It keeps its statements
// prepared, so that a hot read is not parsed and planned again on every
// request, and it counts the statements it runs, so that tests can prove
// what a request costs.
type readPool struct {
	*sqlx.DB
	statements atomic.Int64

	mu       sync.Mutex
	prepared map[string]*sqlx.Stmt
}

func newReadPool(db *sqlx.DB) *readPool {
	return &readPool{DB: db, prepared: map[string]*sqlx.Stmt{}}
}

// stmt returns query prepared, or nil when it cannot be kept.
func (p *readPool) stmt(ctx context.Context, query string) *sqlx.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.prepared[query]; ok {
		return s
	}
	if len(p.prepared) >= maxPrepared {
		return nil
	}
	s, err := p.DB.PreparexContext(ctx, query)
	if err != nil {
		return nil // the query itself will report the problem
	}
	p.prepared[query] = s
	return s
}

// SelectContext runs a query and scans every row into dest.
func (p *readPool) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	p.statements.Add(1)
	if s := p.stmt(ctx, query); s != nil {
		return s.SelectContext(ctx, dest, args...)
	}
	return p.DB.SelectContext(ctx, dest, query, args...)
}

// GetContext runs a query and scans its one row into dest.
func (p *readPool) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	p.statements.Add(1)
	if s := p.stmt(ctx, query); s != nil {
		return s.GetContext(ctx, dest, args...)
	}
	return p.DB.GetContext(ctx, dest, query, args...)
}

// QueryContext runs a query and returns its rows.
func (p *readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	p.statements.Add(1)
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

// closeStatements releases the prepared statements.
func (p *readPool) closeStatements() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, s := range p.prepared {
		s.Close()
		delete(p.prepared, q)
	}
}

// ReadStatements returns how many statements the read side has run since
// the database was opened.
func (db *DB) ReadStatements() int64 { return db.r.statements.Load() }
