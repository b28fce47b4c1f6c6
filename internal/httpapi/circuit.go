package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/circuit"
)

// CircuitControl shows and resumes the per-topic circuit breakers;
// *circuit.Set is one.
type CircuitControl interface {
	Topics() []string
	Snapshots() map[string]circuit.Snapshot
	Resume(topic string) (circuit.State, error)
}

type circuitJSON struct {
	Topic string `json:"topic"`
	State string `json:"state"`
	// OpenedAt is when the breaker last tripped, null if never.
	OpenedAt      *string `json:"opened_at"`
	WindowValid   int64   `json:"window_valid"`
	WindowInvalid int64   `json:"window_invalid"`
}

func (a *api) listCircuit(w http.ResponseWriter, _ *http.Request) {
	if a.circuit == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, "the circuit breaker is disabled (circuit.enabled: false)")
		return
	}
	snaps := a.circuit.Snapshots()
	out := make([]circuitJSON, 0, len(snaps))
	for _, t := range a.circuit.Topics() {
		s := snaps[t]
		c := circuitJSON{Topic: t, State: s.State.String(), WindowValid: s.Valid, WindowInvalid: s.Invalid}
		if !s.OpenedAt.IsZero() {
			at := s.OpenedAt.UTC().Format(time.RFC3339Nano)
			c.OpenedAt = &at
		}
		out = append(out, c)
	}
	WriteJSON(w, http.StatusOK, map[string]any{"topics": out})
}

func (a *api) resumeCircuit(w http.ResponseWriter, r *http.Request) {
	if a.circuit == nil {
		WriteError(w, http.StatusNotFound, codeNotFound, "the circuit breaker is disabled (circuit.enabled: false)")
		return
	}
	topic := r.PathValue("topic")
	st, err := a.circuit.Resume(topic)
	if errors.Is(err, circuit.ErrUnknownTopic) {
		WriteError(w, http.StatusNotFound, codeNotFound, "no input topic "+topic)
		return
	}
	if err != nil {
		a.internalError(w, r, "resuming circuit", err)
		return
	}
	a.log.Info("circuit resumed over the API", "topic", topic, "remote", r.RemoteAddr)
	WriteJSON(w, http.StatusOK, map[string]string{"topic": topic, "state": st.String()})
}
