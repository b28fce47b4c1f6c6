package shadow

import (
	"math"
	"strconv"
)

// Outcome compares a candidate's verdict on a record with today's (the
// enforced version's, which routed it).
type Outcome string

// The outcomes, the values of the metric's outcome label.
const (
	// AgreePass: both accept the record.
	AgreePass Outcome = "agree_pass"
	// AgreeFail: both reject it.
	AgreeFail Outcome = "agree_fail"
	// NewlyRejected: accepted today, the candidate would reject it.
	NewlyRejected Outcome = "newly_rejected"
	// NewlyAccepted: rejected today, the candidate would accept it.
	NewlyAccepted Outcome = "newly_accepted"
)

// Outcomes lists the outcomes in a fixed order.
var Outcomes = []Outcome{AgreePass, AgreeFail, NewlyRejected, NewlyAccepted}

// Classify returns the outcome of a record that today's verdict and the
// candidate's judge as given (true: valid).
func Classify(today, candidate bool) Outcome {
	switch {
	case today && candidate:
		return AgreePass
	case !today && !candidate:
		return AgreeFail
	case today:
		return NewlyRejected
	default:
		return NewlyAccepted
	}
}

func (o Outcome) index() int {
	switch o {
	case AgreePass:
		return 0
	case AgreeFail:
		return 1
	case NewlyRejected:
		return 2
	default:
		return 3
	}
}

// Sampled reports whether the record at (topic, partition, offset) is
// evaluated in shadow when a share fraction (0 to 1) of records is: a hash
// of its coordinates, so the same records are picked on every run and by
// every gateway, spread evenly over each partition.
func Sampled(fraction float64, topic string, partition int32, offset int64) bool {
	switch {
	case fraction >= 1:
		return true
	case !(fraction > 0): // NaN too
		return false
	}
	x := uint64(14695981039346656037) // FNV-1a of the topic
	for i := range len(topic) {
		x ^= uint64(topic[i])
		x *= 1099511628211
	}
	x ^= uint64(uint32(partition))<<32 ^ uint64(offset)
	// splitmix64's finalizer: neighbouring offsets land far apart.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < fraction
}

// share is part of whole, 0 when whole is.
func share(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// Percent formats a share (0 to 1) as a percentage with up to three
// significant digits: 0.032 is "3.2%", 0.0008 "0.08%".
func Percent(f float64) string {
	if math.IsNaN(f) {
		return "NaN%"
	}
	return strconv.FormatFloat(f*100, 'g', 3, 64) + "%"
}
