package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"
)

// CreatePostgresDatabase creates an empty database named prefix plus a
// random suffix on the PostgreSQL server at serverURL, for tests and
// benchmarks. It returns the new database's URL and a function that drops
// it, even when ctx is done.
func CreatePostgresDatabase(ctx context.Context, serverURL, prefix string) (dsn string, drop func() error, err error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("store: postgres URL: %w", err)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := prefix + hex.EncodeToString(suffix)
	admin, err := sqlx.Open("postgres", serverURL)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("store: create database %s: %w", name, err)
	}
	drop = func() error {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("store: drop database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
