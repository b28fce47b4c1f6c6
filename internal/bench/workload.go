package bench

import (
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/demo"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// workload generates the benchmark's records and remembers what each one
// must become. Record i carries key "b<i>".
type workload struct {
	gen      *demo.Generator
	size     int
	now      time.Time
	wantType []record.ErrorType // by index: "" for valid
	bytes    int64
}

func newWorkload(n, size int, invalidShare float64, seed uint64) *workload {
	return &workload{
		gen:      demo.NewGenerator(seed, invalidShare),
		size:     size,
		now:      time.Date(2026, 1, 10, 19, 50, 0, 0, time.UTC),
		wantType: make([]record.ErrorType, 0, n),
	}
}

// next returns record i's key and value.
func (w *workload) next() (key, value []byte) {
	i := len(w.wantType)
	ev := w.gen.Next(w.now)
	w.wantType = append(w.wantType, ev.Kind.Want)
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
