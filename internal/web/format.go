package web

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

// pct formats a 0..1 share; nil is "—".
func pct(v any) string {
	var f float64
	switch x := v.(type) {
	case *float64:
		if x == nil {
			return "—"
		}
		f = *x
	case float64:
		f = x
	default:
		return "—"
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// num groups thousands: 1234567 -> 1,234,567.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func fmtRate(r float64) string {
	switch {
	case r == 0:
		return "0"
	case r < 10:
		return strconv.FormatFloat(r, 'f', 1, 64)
	default:
		return num(int64(math.Round(r)))
	}
}

func fmtMillis(sec float64) string {
	ms := sec * 1000
	switch {
	case ms < 1:
		return strconv.FormatFloat(ms*1000, 'f', 0, 64) + " µs"
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 2, 64) + " ms"
	default:
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	}
}

// relative returns v as a share of of (0 when of is not positive): bars of
// a list scaled so that its biggest fills its bar.
func relative(v, of float64) float64 {
	if of <= 0 {
		return 0
	}
	return v / of
}

// barClass maps a 0..1 share to one of 21 width classes (w0..w100 in steps
// of 5) of the stylesheet: the CSP allows no inline style attributes.
func barClass(share float64) string {
	n := int(math.Round(share*20)) * 5
	if share > 0 && n == 0 {
		n = 5
	}
	return "w" + strconv.Itoa(max(0, min(100, n)))
}
