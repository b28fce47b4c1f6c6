package registry

import (
	"testing"
	"time"
)

func TestNegativeCache(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	c := newNegativeCache[int](100, time.Minute)
	c.now = func() time.Time { return now }
	c.add(1, 0)
	if !c.has(1) || c.has(2) {
		t.Fatal("has: want 1 and not 2")
	}
	now = now.Add(time.Minute)
	if c.has(1) {
		t.Fatal("an entry outlived its TTL")
	}
	// Bounded whatever is added.
	for i := range 10_000 {
		c.add(i, 0)
		if c.len() > 100 {
			t.Fatalf("%d entries after %d adds, want at most 100", c.len(), i+1)
		}
	}
	if !c.has(9_999) {
		t.Fatal("the newest entry was evicted")
	}
	// A clear forgets all, and an add from before it is dropped.
	c.clear(1)
	if c.len() != 0 {
		t.Fatalf("%d entries after clear", c.len())
	}
	c.add(5, 0)
	if c.has(5) {
		t.Fatal("an add that raced a clear was kept")
	}
	c.add(5, 1)
	if !c.has(5) {
		t.Fatal("an add after the clear was dropped")
	}
}
