package spool

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// The body of a version 2 metadata spool file: the entries one after the
// other, each field in Entry's order, in a compact binary form. It replaced
// version 1's JSON (still read) because with SQLite every quarantined row
// goes through the spool, and JSON cost several microseconds a row each way.
//
//	string = uvarint length, bytes
//	bytes  = uvarint length+1, bytes (0: nil)
//	int    = varint
//	time   = uvarint 0 (zero time) | 1, varint Unix seconds, uvarint nanoseconds (UTC)
//	bool   = byte 0 | 1
//	errors = uvarint count+1 (0: nil), then each violation's type, field,
//	         keyword and message as strings

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBytes(b, v []byte) []byte {
	if v == nil {
		return binary.AppendUvarint(b, 0)
	}
	return append(binary.AppendUvarint(b, uint64(len(v))+1), v...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendEntry(b []byte, e *quarantine.Entry) []byte {
	b = appendString(b, e.ID)
	b = appendString(b, e.SourceTopic)
	b = binary.AppendVarint(b, int64(e.SourcePartition))
	b = binary.AppendVarint(b, e.SourceOffset)
	b = appendBytes(b, e.Key)
	b = appendTime(b, e.Timestamp)
	b = appendTime(b, e.QuarantinedAt)
	b = appendString(b, e.Subject)
	b = binary.AppendVarint(b, int64(e.SchemaVersion))
	b = appendString(b, string(e.ErrorType))
	b = appendString(b, e.ErrorField)
	if e.Errors == nil {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(e.Errors))+1)
		for i := range e.Errors {
			v := &e.Errors[i]
			b = appendString(b, string(v.Type))
			b = appendString(b, v.Field)
			b = appendString(b, v.Keyword)
			b = appendString(b, v.Message)
		}
	}
	b = appendString(b, e.Payload.Segment)
	b = binary.AppendVarint(b, e.Payload.Offset)
	b = binary.AppendVarint(b, e.Payload.Length)
	b = binary.AppendVarint(b, int64(e.PayloadSize))
	b = appendString(b, string(e.Status))
	b = appendTime(b, e.StatusChangedAt)
	b = appendString(b, e.StatusActor)
	b = appendString(b, e.StatusReason)
	b = appendString(b, e.Job)
	b = binary.AppendVarint(b, int64(e.ReplayCount))
	return appendBool(b, e.Corrected)
}

var errShort = errors.New("entry cut short")

// reader decodes one version 2 body; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) int32() int32 {
	v := r.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail("int32 out of range")
	}
	return int32(v)
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = errors.New(msg)
	}
}

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string { return string(r.take(r.uvarint())) }

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n == 0 {
		return nil
	}
	return append([]byte{}, r.take(n-1)...)
}

func (r *reader) time() time.Time {
	switch r.uvarint() {
	case 0:
		return time.Time{}
	case 1:
		sec, nsec := r.varint(), r.uvarint()
		if nsec >= 1e9 {
			r.fail("nanoseconds out of range")
		}
		return time.Unix(sec, int64(nsec)).UTC()
	}
	r.fail("bad time tag")
	return time.Time{}
}

func (r *reader) bool() bool {
	switch b := r.take(1); {
	case len(b) == 1 && b[0] <= 1:
		return b[0] == 1
	case r.err == nil:
		r.fail("bad bool")
	}
	return false
}

func (r *reader) entry() quarantine.Entry {
	var e quarantine.Entry
	e.ID = r.string()
	e.SourceTopic = r.string()
	e.SourcePartition = r.int32()
	e.SourceOffset = r.varint()
	e.Key = r.bytes()
	e.Timestamp = r.time()
	e.QuarantinedAt = r.time()
	e.Subject = r.string()
	e.SchemaVersion = int(r.varint())
	e.ErrorType = record.ErrorType(r.string())
	e.ErrorField = r.string()
	if n := r.uvarint(); n > 0 {
		if n-1 > uint64(len(r.b)) { // each violation takes at least 4 bytes
			r.fail("violation count out of range")
			return e
		}
		e.Errors = make([]record.Violation, n-1)
		for i := range e.Errors {
			e.Errors[i] = record.Violation{
				Type: record.ErrorType(r.string()), Field: r.string(), Keyword: r.string(), Message: r.string(),
			}
		}
	}
	e.Payload.Segment = r.string()
	e.Payload.Offset = r.varint()
	e.Payload.Length = r.varint()
	e.PayloadSize = int(r.varint())
	e.Status = quarantine.Status(r.string())
	e.StatusChangedAt = r.time()
	e.StatusActor = r.string()
	e.StatusReason = r.string()
	e.Job = r.string()
	e.ReplayCount = int(r.varint())
	e.Corrected = r.bool()
	return e
}
