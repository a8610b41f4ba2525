package loader

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graph-gophers/dataloader/v7"
)

// batchLoader is a loader whose batch stays open for as long as keys keep
// coming: it is sent once no loader of the operation has taken a key for
// idle, or maxWait after its first key, or when it holds capacity keys.
//
// dataloader's own loader sends a batch a fixed wait after its first key.
// That splits the loads of a long list into many batches whenever starting
// the list's items takes longer than the wait: under load, or with the race
// detector, a page of 200 entities cost dozens of statements instead of a
// handful. Waiting for every loader of the operation to be quiet, not only
// this one, also keeps one loader's batch from running its query, and
// taking the CPU, while the list's items are still asking another loader.
//
// Results are cached for the loader's life, one operation, errors included.
type batchLoader[K comparable, V any] struct {
	fetch    dataloader.BatchFunc[K, V]
	activity *atomic.Int64 // when a loader of the operation last took a key, in Unix nanoseconds
	idle     time.Duration
	maxWait  time.Duration
	capacity int

	mu      sync.Mutex
	cache   map[K]*pending[V]
	current *batch[K, V] // the batch that takes new keys, or nil
}

// yields is how many times a batch lets the other goroutines run before it
// is sent, once its loader is quiet.
const yields = 4

// pending is the result of one key, ready once done is closed.
type pending[V any] struct {
	done chan struct{}
	data V
	err  error
}

type batch[K comparable, V any] struct {
	ctx     context.Context // of the first load
	keys    []K
	results []*pending[V]
	first   time.Time
}

// newBatchLoader returns a loader that calls fetch; the loaders of one
// operation share activity.
func newBatchLoader[K comparable, V any](fetch dataloader.BatchFunc[K, V], activity *atomic.Int64, idle, maxWait time.Duration, capacity int) *batchLoader[K, V] {
	return &batchLoader[K, V]{fetch: fetch, activity: activity, idle: idle, maxWait: maxWait, capacity: capacity, cache: map[K]*pending[V]{}}
}

// Load asks for one key and returns a function that waits for its value.
func (l *batchLoader[K, V]) Load(ctx context.Context, key K) dataloader.Thunk[V] {
	p := l.add(ctx, key)
	return func() (V, error) {
		select {
		case <-p.done:
			return p.data, p.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
}

// LoadMany asks for keys and returns a function that waits for their
// values, in the order of keys.
func (l *batchLoader[K, V]) LoadMany(ctx context.Context, keys []K) dataloader.ThunkMany[V] {
	thunks := make([]dataloader.Thunk[V], len(keys))
	for i, k := range keys {
		thunks[i] = l.Load(ctx, k)
	}
	return func() ([]V, []error) {
		data := make([]V, len(keys))
		var errs []error
		for i, th := range thunks {
			var err error
			if data[i], err = th(); err != nil {
				if errs == nil {
					errs = make([]error, len(keys))
				}
				errs[i] = err
			}
		}
		return data, errs
	}
}

// add returns the pending result of key, adding key to the open batch
// when it was not asked for before.
func (l *batchLoader[K, V]) add(ctx context.Context, key K) *pending[V] {
	now := time.Now()
	// Every load counts, cached or not: it says the operation is still
	// starting fields that may ask for more.
	l.activity.Store(now.UnixNano())
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.cache[key]; ok {
		return p
	}
	p := &pending[V]{done: make(chan struct{})}
	l.cache[key] = p
	b := l.current
	if b == nil {
		b = &batch[K, V]{ctx: ctx, first: now}
		l.current = b
		go l.wait(b)
	}
	b.keys, b.results = append(b.keys, key), append(b.results, p)
	if len(b.keys) >= l.capacity {
		l.current = nil
		go l.send(b)
	}
	return p
}

// wait sends b once no loader has taken a key for idle, or once b has been
// open for maxWait, unless b was sent full before.
func (l *batchLoader[K, V]) wait(b *batch[K, V]) {
	sleep := l.idle
	for {
		time.Sleep(sleep)
		l.mu.Lock()
		if l.current != b {
			l.mu.Unlock()
			return
		}
		now := time.Now()
		last := l.activity.Load()
		quiet, open := now.Sub(time.Unix(0, last)), now.Sub(b.first)
		if open < l.maxWait && quiet >= l.idle {
			// Quiet by the clock, but the clock also runs while the process
			// is not: after a pause (another process on the CPU, a garbage
			// collection) this goroutine may run before the items that were
			// about to ask. Let every runnable goroutine have a turn first.
			l.mu.Unlock()
			for range yields {
				runtime.Gosched()
			}
			l.mu.Lock()
			if l.current != b {
				l.mu.Unlock()
				return
			}
			if l.activity.Load() != last {
				l.mu.Unlock()
				sleep = l.idle
				continue
			}
		}
		if quiet >= l.idle || open >= l.maxWait {
			l.current = nil
			l.mu.Unlock()
			l.send(b)
			return
		}
		l.mu.Unlock()
		sleep = min(l.idle-quiet, l.maxWait-open)
	}
}

// send fetches a batch and hands every key its result.
func (l *batchLoader[K, V]) send(b *batch[K, V]) {
	var res []*dataloader.Result[V]
	defer func() {
		r := recover()
		for i, p := range b.results {
			switch {
			case r != nil:
				p.err = fmt.Errorf("loader: panic in batch function: %v", r)
			case i < len(res) && res[i] != nil:
				p.data, p.err = res[i].Data, res[i].Error
			default:
				p.err = fmt.Errorf("loader: batch function returned %d results for %d keys", len(res), len(b.keys))
			}
			close(p.done)
		}
	}()
	res = l.fetch(b.ctx, b.keys)
}
