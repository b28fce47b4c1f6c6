package bench

import (
	"slices"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/demo"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// workload generates the benchmark's records and remembers what each one
// must become. Record i carries key "b<i>".
type workload struct {
	gen   *demo.Generator
	size  int
	now   time.Time
	kinds []record.ErrorType // kind number -> error type; 0 is "" (valid)
	want  []uint8            // by record index: its kind number (1 byte a record: 2M records cost 2 MB)
	bytes int64
}

func newWorkload(n, size int, invalidShare float64, seed uint64) *workload {
	kinds := []record.ErrorType{""}
	for _, k := range demo.Kinds {
		kinds = append(kinds, k.Want)
	}
	return &workload{
		gen:   demo.NewGenerator(seed, invalidShare),
		size:  size,
		now:   time.Date(2026, 1, 10, 19, 50, 0, 0, time.UTC),
		kinds: kinds,
		want:  make([]uint8, 0, n),
	}
}

// wantType returns the primary error type record i must get, "" for valid.
func (w *workload) wantType(i int) record.ErrorType { return w.kinds[w.want[i]] }

// count returns how many records were generated.
func (w *workload) count() int { return len(w.want) }

// next returns record i's key and value.
func (w *workload) next() (key, value []byte) {
	i := len(w.want)
	ev := w.gen.Next(w.now)
	w.want = append(w.want, uint8(slices.Index(w.kinds, ev.Kind.Want)))
	value = demo.Pad(ev.Value, w.size)
	w.bytes += int64(len(value))
	return append([]byte("b"), strconv.Itoa(i)...), value
}

// index parses a key made by next; -1 when it is not one.
func index(key []byte) int {
	if len(key) < 2 || key[0] != 'b' {
		return -1
	}
	i, err := strconv.Atoi(string(key[1:]))
	if err != nil {
		return -1
	}
	return i
}
