package quarantine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// Lister lists entries; MetadataStore is one.
type Lister interface {
	List(ctx context.Context, f Filter) (Page, error)
}

// Reader reads payloads; PayloadStore is one.
type Reader interface {
	Read(ctx context.Context, ref PayloadRef) (Payload, error)
}

// DefaultSearchScan is how many entries one Search call reads at most.
const DefaultSearchScan = 10_000

// SearchResult is one page of Search.
type SearchResult struct {
	Page
	// Scanned is how many entries this call read. A page may hold fewer
	// than the filter's limit, or none, while NextCursor is set: the scan
	// budget ran out first; the next call goes on from there.
	Scanned int
}

// Search is a full-text search of the quarantine: the entries matching f
// whose key or original payload contains text, ignoring case, newest first,
// at most f's limit. Payloads live in the payload store, not in an index,
// so Search reads them: at most maxScan entries per call (0 means
// DefaultSearchScan), narrowing with f first keeps it fast. A payload no
// longer stored (retention) or damaged does not match (its key still may);
// any other failure to read one (an outage) fails the search.
func Search(ctx context.Context, meta Lister, payloads Reader, f Filter, text string, maxScan int) (SearchResult, error) {
	if maxScan <= 0 {
		maxScan = DefaultSearchScan
	}
	needle := Needle(text)
	limit := f.EffectiveLimit()
	var res SearchResult
	for {
		pf := f
		pf.Limit = min(MaxLimit, maxScan-res.Scanned)
		page, err := meta.List(ctx, pf)
		if err != nil {
			return SearchResult{}, err
		}
		for i := range page.Entries {
			e := &page.Entries[i]
			res.Scanned++
			ok, err := payloadContains(ctx, payloads, e, needle)
			if err != nil {
				return SearchResult{}, err
			}
			if ok {
				res.Entries = append(res.Entries, *e)
			}
			last := i == len(page.Entries)-1 && page.NextCursor == ""
			if (len(res.Entries) == limit || res.Scanned == maxScan) && !last {
				res.NextCursor = EncodeCursor(e.QuarantinedAt.UnixNano(), e.ID)
				return res, nil
			}
		}
		if page.NextCursor == "" {
			return res, nil
		}
		f.Cursor = page.NextCursor
	}
}

// Needle is what Search looks for, given its text: to match entries the
// same way with Contains.
func Needle(text string) []byte { return bytes.ToLower([]byte(text)) }

// Contains is Search's test: whether the key or the payload value (nil
// when the payload could not be read) contains needle, ignoring case.
func Contains(key, value, needle []byte) bool {
	return bytes.Contains(bytes.ToLower(key), needle) || bytes.Contains(bytes.ToLower(value), needle)
}

func payloadContains(ctx context.Context, payloads Reader, e *Entry, needle []byte) (bool, error) {
	if Contains(e.Key, nil, needle) {
		return true, nil
	}
	p, err := payloads.Read(ctx, e.Payload)
	switch {
	case err == nil:
		return Contains(nil, p.Value, needle), nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt):
		return false, nil
	default:
		return false, fmt.Errorf("reading the payload of %s: %w", e.ID, err)
	}
}
