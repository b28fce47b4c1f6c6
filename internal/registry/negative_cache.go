package registry

import (
	"sync"
	"time"
)

// negativeCache remembers keys (schema ids, GUIDs) the registry did not
// have, for a time, in a bounded map: records naming random ones must
// neither grow it without end nor cost a registry read each when they
// repeat. When full, expired entries go first, then arbitrary ones: an
// evicted key costs one more registry read, never a wrong answer.
type negativeCache[K comparable] struct {
	max int
	ttl time.Duration
	now func() time.Time

	mu      sync.RWMutex
	entries map[K]time.Time // key -> expiry
	gen     uint64          // the resolver's idGen at the last clear
}

func newNegativeCache[K comparable](maxEntries int, ttl time.Duration) *negativeCache[K] {
	return &negativeCache[K]{max: maxEntries, ttl: ttl, now: time.Now, entries: make(map[K]time.Time)}
}

// has reports whether k is remembered as unknown and not expired.
func (c *negativeCache[K]) has(k K) bool {
	c.mu.RLock()
	exp, ok := c.entries[k]
	c.mu.RUnlock()
	return ok && c.now().Before(exp)
}

// add remembers k as unknown, unless the cache was cleared since gen was
// read (the lookup that found k unknown may predate a registration).
func (c *negativeCache[K]) add(k K, gen uint64) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		for key, exp := range c.entries {
			if !now.Before(exp) {
				delete(c.entries, key)
			}
		}
		// Still full: drop an eighth, arbitrary (map order), so that
		// eviction is amortised over many adds.
		for key := range c.entries {
			if len(c.entries) < c.max-c.max/8 {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = now.Add(c.ttl)
}

// clear forgets every key; gen is the resolver's new idGen.
func (c *negativeCache[K]) clear(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen = gen
	clear(c.entries)
}

// len returns the number of entries, expired ones included.
func (c *negativeCache[K]) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
