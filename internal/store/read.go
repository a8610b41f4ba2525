package store

import (
	"context"
	"database/sql"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
)

// readPool is the read side of the database. It counts the statements it
// runs, so that tests can prove what a request costs.
type readPool struct {
	*sqlx.DB
	statements atomic.Int64
}

// SelectContext runs a query and scans every row into dest.
func (p *readPool) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	p.statements.Add(1)
	return p.DB.SelectContext(ctx, dest, query, args...)
}

// GetContext runs a query and scans its one row into dest.
func (p *readPool) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	p.statements.Add(1)
	return p.DB.GetContext(ctx, dest, query, args...)
}

// QueryxContext runs a query and returns its rows.
func (p *readPool) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	p.statements.Add(1)
	return p.DB.QueryxContext(ctx, query, args...)
}

// QueryContext runs a query and returns its rows.
func (p *readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	p.statements.Add(1)
	return p.DB.QueryContext(ctx, query, args...)
}

// ReadStatements returns how many statements the read side has run since
// the database was opened.
func (db *DB) ReadStatements() int64 { return db.r.statements.Load() }
