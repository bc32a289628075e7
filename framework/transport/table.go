//go:build linux

package transport

import (
	"sync"
	"sync/atomic"
)

const tableShards = 64

// table is a server's connections by id. It is sharded so that connects and
// lookups on different ids do not contend; locks are never held while
// calling out.
type table[S any] struct {
	shards [tableShards]tableShard[S]
	count  atomic.Int64
}

type tableShard[S any] struct {
	mu    sync.RWMutex
	conns map[ConnID]*Conn[S]
}

func newTable[S any]() *table[S] {
	t := &table[S]{}
	for i := range t.shards {
		t.shards[i].conns = make(map[ConnID]*Conn[S])
	}
	return t
}

func (t *table[S]) shard(id ConnID) *tableShard[S] { return &t.shards[uint64(id)%tableShards] }

func (t *table[S]) add(c *Conn[S]) {
	sh := t.shard(c.id)
	sh.mu.Lock()
	sh.conns[c.id] = c
	sh.mu.Unlock()
	t.count.Add(1)
}

// addNew adds c unless its id is taken, and reports whether it did.
func (t *table[S]) addNew(c *Conn[S]) bool {
	sh := t.shard(c.id)
	sh.mu.Lock()
	_, taken := sh.conns[c.id]
	if !taken {
		sh.conns[c.id] = c
	}
	sh.mu.Unlock()
	if !taken {
		t.count.Add(1)
	}
	return !taken
}

// remove forgets c and reports whether it was there.
func (t *table[S]) remove(c *Conn[S]) bool {
	sh := t.shard(c.id)
	sh.mu.Lock()
	_, ok := sh.conns[c.id]
	delete(sh.conns, c.id)
	sh.mu.Unlock()
	if ok {
		t.count.Add(-1)
	}
	return ok
}

func (t *table[S]) get(id ConnID) *Conn[S] {
	sh := t.shard(id)
	sh.mu.RLock()
	c := sh.conns[id]
	sh.mu.RUnlock()
	return c
}

// each calls fn for every connection; fn runs without any lock held.
func (t *table[S]) each(fn func(*Conn[S])) {
	var batch []*Conn[S]
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		batch = batch[:0]
		for _, c := range sh.conns {
			batch = append(batch, c)
		}
		sh.mu.RUnlock()
		for _, c := range batch {
			fn(c)
		}
	}
}
