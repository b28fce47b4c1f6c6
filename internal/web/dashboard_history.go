package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// HistoryPath is where the dashboard's charts read their series: the JSON
// of live.History for ?range= (one of live.Ranges, default 15m) and
// ?topic= (an input topic, default all).
const HistoryPath = "/ui/history"

// defaultRange is the range the dashboard opens with: minutes of traffic
// fill it.
const defaultRange = "15m"

// maxTopicLen is Kafka's longest topic name.
const maxTopicLen = 249

// historyView is the dashboard's history card.
type historyView struct {
	Range, Topic string
	Ranges       []string
	// ErrorTypes are every error type in their fixed order, which gives
	// each its color in every chart.
	ErrorTypes string
	Path       string
}

// historyForm reads the dashboard's range and topic; ok is false when one
// is not valid.
func historyForm(r *http.Request) (rg live.Range, topic string, ok bool) {
	q := r.URL.Query()
	name := q.Get("range")
	if name == "" {
		name = defaultRange
	}
	rg, ok = live.RangeNamed(name)
	topic = q.Get("topic")
	return rg, topic, ok && len(topic) <= maxTopicLen
}

func newHistoryView(rg live.Range, topic string) *historyView {
	v := &historyView{Range: rg.Name, Topic: topic, Path: HistoryPath}
	for _, r := range live.Ranges {
		v.Ranges = append(v.Ranges, r.Name)
	}
	types := make([]string, len(record.ErrorTypes))
	for i, t := range record.ErrorTypes {
		types[i] = string(t)
	}
	v.ErrorTypes = strings.Join(types, ",")
	return v
}

// historyJSON answers the series of one range and topic, as the API
// answers: its JSON writer, its error shape.
func (u *ui) historyJSON(w http.ResponseWriter, r *http.Request) {
	rg, topic, ok := historyForm(r)
	if !ok {
		names := make([]string, len(live.Ranges))
		for i, x := range live.Ranges {
			names[i] = x.Name
		}
		httpapi.WriteError(w, http.StatusBadRequest, "invalid_parameter",
			"range must be one of "+strings.Join(names, ", ")+", and topic at most "+strconv.Itoa(maxTopicLen)+" characters")
		return
	}
	h, err := u.opts.Charts.History(r.Context(), live.Query{Range: rg, Topic: topic})
	if err != nil {
		u.log.ErrorContext(r.Context(), "reading the dashboard's history", "err", err)
		// The message names the source (a Prometheus URL has its password
		// redacted) so the operator sees why the charts are empty.
		httpapi.WriteError(w, http.StatusBadGateway, "history_unavailable", err.Error())
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, h)
}

// historyTick is the history event's data: the start of the newest 10 s
// step, which changes when the history has a new point to fetch.
func historyTick(at time.Time) string {
	return strconv.FormatInt(at.Truncate(live.Resolution).Unix(), 10)
}
