package quarantinetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// ReprocessStore is a metadata driver with everything reprocessing needs.
type ReprocessStore interface {
	quarantine.MetadataStore
	quarantine.Lifecycle
	quarantine.JobStore
}

// lifecycleSuite holds ExerciseLifecycle's subtests, one method each.
type lifecycleSuite struct {
	newStore func(t *testing.T) (ReprocessStore, audit.Log)
}

// setup returns a fresh store holding entries and two running jobs, j1 and
// j2, with its audit log.
func (l lifecycleSuite) setup(t *testing.T, entries ...quarantine.Entry) (ReprocessStore, audit.Log) {
	t.Helper()
	ctx := context.Background()
	s, log := l.newStore(t)
	require.NoError(t, s.Insert(ctx, entries))
	for _, job := range []string{"j1", "j2"} {
		require.NoError(t, s.CreateJob(ctx, quarantine.Job{ID: job, State: quarantine.JobRunning, Target: "clean", Filter: json.RawMessage(`{}`)}))
	}
	return s, log
}

// get returns the entry id of s.
func (lifecycleSuite) get(t *testing.T, s ReprocessStore, id string) quarantine.Entry {
	t.Helper()
	e, err := s.Get(context.Background(), id)
	require.NoError(t, err)
	return e
}

// ExerciseLifecycle runs the Lifecycle and JobStore conformance suite.
// newStore returns an empty store private to the test and the audit log
// kept in the same database.
func ExerciseLifecycle(t *testing.T, newStore func(t *testing.T) (ReprocessStore, audit.Log)) {
	t.Helper()
	l := lifecycleSuite{newStore: newStore}
	t.Run("ClaimIsCompareAndSet", l.claimIsCompareAndSet)
	t.Run("FinishReprocessed", l.finishReprocessed)
	t.Run("FinishFailedAgain", l.finishFailedAgain)
	t.Run("ConcurrentClaims", l.concurrentClaims)
	t.Run("Release", l.release)
	t.Run("Discard", l.discard)
	t.Run("DiscardAll", l.discardAll)
	t.Run("Correct", l.correct)
	t.Run("Jobs", l.jobs)
	t.Run("ListJobs", l.listJobs)
	t.Run("LeaseJob", l.leaseJob)
}

func (l lifecycleSuite) claimIsCompareAndSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := NewEntry("t", 0, 1, base)
	s, _ := l.setup(t, e)
	got, err := s.Claim(ctx, e.ID, "j1")
	require.NoError(t, err)
	require.Equal(t, quarantine.StatusReprocessing, got.Status)
	require.Equal(t, "j1", got.Job)
	require.Equal(t, got, l.get(t, s, e.ID))

	_, err = s.Claim(ctx, e.ID, "j2")
	require.ErrorIs(t, err, quarantine.ErrConflict, "another job's claim")
	_, err = s.Claim(ctx, e.ID, "j1")
	require.NoError(t, err, "a resumed job reclaims its own record")
	_, err = s.Claim(ctx, "no-such-id", "j1")
	require.ErrorIs(t, err, quarantine.ErrNotFound)

	claimed, err := s.Claimed(ctx, "j1")
	require.NoError(t, err)
	require.Equal(t, []string{e.ID}, ids(claimed))
	claimed, err = s.Claimed(ctx, "j2")
	require.NoError(t, err)
	require.Empty(t, claimed)
}

func (l lifecycleSuite) finishReprocessed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := base.Add(time.Hour)
	e := NewEntry("t", 0, 1, base)
	s, log := l.setup(t, e)
	_, err := s.Claim(ctx, e.ID, "j1")
	require.NoError(t, err)
	o := quarantine.Outcome{
		Change: quarantine.Change{At: at, Actor: "alice", Role: "operator", Reason: "schema v2 fixed it"},
		Status: quarantine.StatusReprocessed, ReplayCount: 1,
	}
	require.ErrorIs(t, s.Finish(ctx, e.ID, "j2", o), quarantine.ErrConflict, "j2 does not hold it")
	require.ErrorIs(t, s.Finish(ctx, "no-such-id", "j1", o), quarantine.ErrNotFound)
	require.NoError(t, s.Finish(ctx, e.ID, "j1", o))

	want := e
	want.Status = quarantine.StatusReprocessed
	want.StatusChangedAt, want.StatusActor, want.StatusReason = at, "alice", "schema v2 fixed it"
	want.Job, want.ReplayCount = "j1", 1
	require.Equal(t, want, l.get(t, s, e.ID))
	page, err := s.List(ctx, quarantine.Filter{Status: quarantine.StatusReprocessed})
	require.NoError(t, err)
	require.Equal(t, []quarantine.Entry{want}, page.Entries)

	require.ErrorIs(t, s.Finish(ctx, e.ID, "j1", o), quarantine.ErrConflict, "finished once")
	for _, job := range []string{"j1", "j2"} {
		_, err = s.Claim(ctx, e.ID, job)
		require.ErrorIs(t, err, quarantine.ErrConflict, "a reprocessed record is never claimed again")
	}
	j, err := s.GetJob(ctx, "j1")
	require.NoError(t, err)
	require.Equal(t, [2]int64{1, 0}, [2]int64{j.Passed, j.Failed})

	evs, err := log.List(ctx, audit.Filter{Target: quarantine.AuditTarget(e.ID)})
	require.NoError(t, err)
	require.Len(t, evs.Events, 1)
	ev := evs.Events[0]
	require.Equal(t, quarantine.ActionReprocess, ev.Action)
	require.Equal(t, "alice", ev.Actor)
	require.Equal(t, "operator", ev.Role)
	require.Equal(t, "schema v2 fixed it", ev.Reason)
	require.True(t, at.Equal(ev.At))
	require.JSONEq(t, `{"job":"j1","status":"reprocessed","replay_count":1}`, string(ev.Details))
}

func (l lifecycleSuite) finishFailedAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := base.Add(time.Hour)
	e := NewEntry("t", 0, 1, base)
	s, log := l.setup(t, e)
	_, err := s.Claim(ctx, e.ID, "j1")
	require.NoError(t, err)
	errs := []record.Violation{{Type: record.PatternMismatch, Field: "/email", Keyword: "pattern", Message: "bad email"}}
	require.NoError(t, s.Finish(ctx, e.ID, "j1", quarantine.Outcome{
		Change: quarantine.Change{At: at, Actor: "system"}, Status: quarantine.StatusFailedAgain, Errors: errs,
	}))
	got := l.get(t, s, e.ID)
	require.Equal(t, quarantine.StatusFailedAgain, got.Status)
	require.Equal(t, errs, got.Errors)
	require.Equal(t, record.PatternMismatch, got.ErrorType)
	require.Equal(t, "/email", got.ErrorField)
	require.Zero(t, got.ReplayCount)

	_, err = s.Claim(ctx, e.ID, "j1")
	require.ErrorIs(t, err, quarantine.ErrConflict, "a job does not retry what it failed")
	_, err = s.Claim(ctx, e.ID, "j2")
	require.NoError(t, err, "a later job may")
	j, err := s.GetJob(ctx, "j1")
	require.NoError(t, err)
	require.Equal(t, [2]int64{0, 1}, [2]int64{j.Passed, j.Failed})
	evs, err := log.List(ctx, audit.Filter{Action: quarantine.ActionReprocess})
	require.NoError(t, err)
	require.Len(t, evs.Events, 1)
	require.Contains(t, string(evs.Events[0].Details), "bad email")

	require.Error(t, s.Finish(ctx, e.ID, "j2", quarantine.Outcome{Status: quarantine.StatusDiscarded}),
		"Finish only reprocessed or failed_again")
}

func (l lifecycleSuite) concurrentClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := NewEntry("t", 0, 1, base)
	s, _ := l.setup(t, e)
	const n = 16
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won []string
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job := string(rune('a' + i))
			_, err := s.Claim(ctx, e.ID, job)
			if err == nil {
				mu.Lock()
				won = append(won, job)
				mu.Unlock()
				return
			}
			if !errors.Is(err, quarantine.ErrConflict) {
				t.Errorf("claim by %s: %v", job, err)
			}
		}()
	}
	wg.Wait()
	require.Len(t, won, 1, "exactly one job claims the record")
	require.Equal(t, won[0], l.get(t, s, e.ID).Job)
}

func (l lifecycleSuite) release(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := NewEntry("t", 0, 1, base)
	f := NewEntry("t", 0, 2, base)
	f.Status = quarantine.StatusFailedAgain
	s, _ := l.setup(t, q, f)
	for _, e := range []quarantine.Entry{q, f} {
		_, err := s.Claim(ctx, e.ID, "j1")
		require.NoError(t, err)
	}
	require.NoError(t, s.Release(ctx, "j1"))
	require.Equal(t, quarantine.StatusQuarantined, l.get(t, s, q.ID).Status)
	require.Equal(t, quarantine.StatusFailedAgain, l.get(t, s, f.ID).Status)
	claimed, err := s.Claimed(ctx, "j1")
	require.NoError(t, err)
	require.Empty(t, claimed)
}

func (l lifecycleSuite) discardAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := base.Add(time.Hour)
	var entries []quarantine.Entry
	for i := range 6 {
		entries = append(entries, NewEntry("t", 0, int64(i), base.Add(time.Duration(i)*time.Second)))
	}
	entries[1].Status = quarantine.StatusFailedAgain
	entries[2].Status = quarantine.StatusReprocessed
	entries[3].Status = quarantine.StatusDiscarded
	s, log := l.setup(t, entries...)
	_, err := s.Claim(ctx, entries[4].ID, "j1")
	require.NoError(t, err)
	c := quarantine.Change{At: at, Actor: "bob", Role: "operator", Reason: "producer bug, resent"}

	ids := []string{entries[5].ID, entries[2].ID, "no-such-id", entries[0].ID, entries[4].ID, entries[3].ID, entries[1].ID, entries[0].ID}
	done, err := s.DiscardAll(ctx, ids, c)
	require.NoError(t, err)
	require.Equal(t, []string{entries[5].ID, entries[0].ID, entries[1].ID}, done,
		"the quarantined and failed_again ones, in the order given, once each")
	for i, want := range []quarantine.Status{
		quarantine.StatusDiscarded, quarantine.StatusDiscarded, quarantine.StatusReprocessed,
		quarantine.StatusDiscarded, quarantine.StatusReprocessing, quarantine.StatusDiscarded,
	} {
		got := l.get(t, s, entries[i].ID)
		require.Equal(t, want, got.Status, "entry %d", i)
		if i == 0 || i == 1 || i == 5 {
			require.Equal(t, "bob", got.StatusActor)
			require.Equal(t, "producer bug, resent", got.StatusReason)
			require.True(t, at.Equal(got.StatusChangedAt))
		}
	}
	evs, err := log.List(ctx, audit.Filter{Action: quarantine.ActionDiscard})
	require.NoError(t, err)
	require.Len(t, evs.Events, 3, "one audit event per record discarded")
	for _, ev := range evs.Events {
		require.Equal(t, "bob", ev.Actor)
		require.Equal(t, "producer bug, resent", ev.Reason)
	}

	done, err = s.DiscardAll(ctx, ids, c)
	require.NoError(t, err)
	require.Empty(t, done, "nothing is left to discard")
	done, err = s.DiscardAll(ctx, nil, c)
	require.NoError(t, err)
	require.Empty(t, done)
}

func (l lifecycleSuite) discard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := base.Add(time.Hour)
	e := NewEntry("t", 0, 1, base)
	claimed := NewEntry("t", 0, 2, base)
	s, log := l.setup(t, e, claimed)
	c := quarantine.Change{At: at, Actor: "bob", Role: "operator", Reason: "test traffic"}
	require.NoError(t, s.Discard(ctx, e.ID, c))
	got := l.get(t, s, e.ID)
	require.Equal(t, quarantine.StatusDiscarded, got.Status)
	require.Equal(t, "bob", got.StatusActor)
	require.Equal(t, "test traffic", got.StatusReason)
	require.True(t, at.Equal(got.StatusChangedAt))
	require.ErrorIs(t, s.Discard(ctx, e.ID, c), quarantine.ErrConflict)
	require.ErrorIs(t, s.Discard(ctx, "no-such-id", c), quarantine.ErrNotFound)
	_, err := s.Claim(ctx, e.ID, "j1")
	require.ErrorIs(t, err, quarantine.ErrConflict, "a discarded record is never reprocessed")

	_, err = s.Claim(ctx, claimed.ID, "j1")
	require.NoError(t, err)
	require.ErrorIs(t, s.Discard(ctx, claimed.ID, c), quarantine.ErrConflict, "a job holds it")

	evs, err := log.List(ctx, audit.Filter{Action: quarantine.ActionDiscard})
	require.NoError(t, err)
	require.Len(t, evs.Events, 1)
	require.Equal(t, quarantine.AuditTarget(e.ID), evs.Events[0].Target)
	require.JSONEq(t, `{"from":"quarantined","to":"discarded"}`, string(evs.Events[0].Details))
}

func (l lifecycleSuite) correct(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := NewEntry("t", 0, 1, base)
	d := NewEntry("t", 0, 2, base)
	d.Status = quarantine.StatusDiscarded
	s, log := l.setup(t, e, d)
	_, err := s.Correction(ctx, e.ID)
	require.ErrorIs(t, err, quarantine.ErrNotFound)
	c := quarantine.Change{Actor: "carol", Reason: "typo"}
	require.NoError(t, s.Correct(ctx, e.ID, []byte(`{"user_id":"USER000001"}`), c))
	require.NoError(t, s.Correct(ctx, e.ID, []byte{0, 0xff, 'x'}, c), "a later correction replaces it")
	v, err := s.Correction(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0xff, 'x'}, v)
	got := l.get(t, s, e.ID)
	require.True(t, got.Corrected)
	require.Equal(t, quarantine.StatusQuarantined, got.Status, "correcting does not change the status")

	require.NoError(t, s.Correct(ctx, e.ID, nil, c))
	v, err = s.Correction(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, []byte{}, v, "an empty correction is a correction")

	require.ErrorIs(t, s.Correct(ctx, d.ID, []byte("x"), c), quarantine.ErrConflict)
	require.ErrorIs(t, s.Correct(ctx, "no-such-id", []byte("x"), c), quarantine.ErrNotFound)
	_, err = s.Correction(ctx, "no-such-id")
	require.ErrorIs(t, err, quarantine.ErrNotFound)

	evs, err := log.List(ctx, audit.Filter{Target: quarantine.AuditTarget(e.ID)})
	require.NoError(t, err)
	require.Len(t, evs.Events, 3)
	for _, ev := range evs.Events {
		require.Equal(t, quarantine.ActionEdit, ev.Action)
		require.Equal(t, "carol", ev.Actor)
		require.False(t, ev.At.IsZero())
	}
}

func (l lifecycleSuite) jobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := l.newStore(t)
	_, err := s.GetJob(ctx, "nope")
	require.ErrorIs(t, err, quarantine.ErrNotFound)
	require.ErrorIs(t, s.UpdateJob(ctx, "nope", quarantine.JobUpdate{}), quarantine.ErrNotFound)

	j := quarantine.Job{
		ID: "job-1", State: quarantine.JobRunning, Filter: json.RawMessage(`{"topic":"orders"}`),
		Target: "raw", Reason: "fixed", Actor: "alice", Role: "operator",
		CreatedAt: base, UpdatedAt: base,
	}
	require.NoError(t, s.CreateJob(ctx, j))
	require.Error(t, s.CreateJob(ctx, j), "ids are unique")
	got, err := s.GetJob(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, j, got)

	later := j
	later.ID, later.CreatedAt, later.UpdatedAt = "job-0", base.Add(time.Second), base.Add(time.Second)
	require.NoError(t, s.CreateJob(ctx, later))
	unfinished, err := s.UnfinishedJobs(ctx)
	require.NoError(t, err)
	require.Len(t, unfinished, 2)
	require.Equal(t, []string{"job-1", "job-0"}, []string{unfinished[0].ID, unfinished[1].ID}, "oldest first")

	matched, done, msg := int64(7), quarantine.JobFailed, "kafka down"
	require.NoError(t, s.UpdateJob(ctx, j.ID, quarantine.JobUpdate{Matched: &matched, AddSkipped: 2}))
	require.NoError(t, s.UpdateJob(ctx, j.ID, quarantine.JobUpdate{AddSkipped: 1, State: &done, Error: &msg}))
	got, err = s.GetJob(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, int64(7), got.Matched)
	require.Equal(t, int64(3), got.Skipped)
	require.Equal(t, quarantine.JobFailed, got.State)
	require.Equal(t, "kafka down", got.Error)
	require.True(t, got.UpdatedAt.After(base))
	unfinished, err = s.UnfinishedJobs(ctx)
	require.NoError(t, err)
	require.Len(t, unfinished, 1)
	require.Equal(t, "job-0", unfinished[0].ID)
}

func (l lifecycleSuite) listJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := l.newStore(t)
	page, err := s.ListJobs(ctx, quarantine.JobFilter{})
	require.NoError(t, err)
	require.Empty(t, page.Jobs)
	require.NotNil(t, page.Jobs)
	require.Empty(t, page.NextCursor)

	// Seven jobs, two created in the same instant; three end.
	ids := []string{"j0", "j1", "j2", "j3a", "j3b", "j4", "j5"}
	for i, id := range ids {
		at := base.Add(time.Duration(min(i, 3+max(0, i-4))) * time.Minute)
		require.NoError(t, s.CreateJob(ctx, quarantine.Job{ID: id, State: quarantine.JobRunning, CreatedAt: at, UpdatedAt: at}))
	}
	done, failed := quarantine.JobDone, quarantine.JobFailed
	for id, st := range map[string]*quarantine.JobState{"j1": &done, "j3a": &done, "j4": &failed} {
		require.NoError(t, s.UpdateJob(ctx, id, quarantine.JobUpdate{State: st}))
	}
	list := func(f quarantine.JobFilter) []string {
		t.Helper()
		var out []string
		for {
			page, err := s.ListJobs(ctx, f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Jobs), f.PageLimit())
			for _, j := range page.Jobs {
				out = append(out, j.ID)
			}
			if page.NextCursor == "" {
				return out
			}
			f.Cursor = page.NextCursor
		}
	}
	newestFirst := []string{"j5", "j4", "j3b", "j3a", "j2", "j1", "j0"}
	require.Equal(t, newestFirst, list(quarantine.JobFilter{}), "newest first, ties by id")
	for _, limit := range []int{1, 2, 3, 7} {
		require.Equal(t, newestFirst, list(quarantine.JobFilter{Limit: limit}), "paged by %d", limit)
	}
	require.Equal(t, []string{"j3a", "j1"}, list(quarantine.JobFilter{State: quarantine.JobDone, Limit: 1}))
	require.Equal(t, []string{"j4"}, list(quarantine.JobFilter{State: quarantine.JobFailed}))
	require.Equal(t, []string{"j5", "j3b", "j2", "j0"}, list(quarantine.JobFilter{State: quarantine.JobRunning}))

	page, err = s.ListJobs(ctx, quarantine.JobFilter{State: quarantine.JobFailed})
	require.NoError(t, err)
	require.False(t, page.Jobs[0].FinishedAt().IsZero(), "a failed job has ended")
	page, err = s.ListJobs(ctx, quarantine.JobFilter{Limit: 1})
	require.NoError(t, err)
	require.True(t, page.Jobs[0].FinishedAt().IsZero(), "a running job has not")

	for _, bad := range []string{"x", "!!", quarantine.EncodeCursor(1, "a") + "="} {
		_, err := s.ListJobs(ctx, quarantine.JobFilter{Cursor: bad})
		require.ErrorIs(t, err, quarantine.ErrBadCursor, bad)
	}
}

func (l lifecycleSuite) leaseJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := l.newStore(t)
	require.NoError(t, s.CreateJob(ctx, quarantine.Job{ID: "j", State: quarantine.JobRunning}))
	_, err := s.LeaseJob(ctx, "nope", "a", time.Now().Add(time.Minute))
	require.ErrorIs(t, err, quarantine.ErrNotFound)

	until := time.Now().Add(time.Minute).Round(0)
	j, err := s.LeaseJob(ctx, "j", "a", until)
	require.NoError(t, err, "no owner yet")
	require.Equal(t, "a", j.Owner)
	require.True(t, until.Equal(j.LeaseUntil))
	_, err = s.LeaseJob(ctx, "j", "b", until)
	require.ErrorIs(t, err, quarantine.ErrConflict, "a's lease holds")
	_, err = s.LeaseJob(ctx, "j", "a", until.Add(time.Minute))
	require.NoError(t, err, "a renews")

	_, err = s.LeaseJob(ctx, "j", "a", time.Now().Add(-time.Second))
	require.NoError(t, err, "a gives it up")
	j, err = s.LeaseJob(ctx, "j", "b", until)
	require.NoError(t, err, "an expired lease is taken over")
	require.Equal(t, "b", j.Owner)

	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	require.NoError(t, s.CreateJob(ctx, quarantine.Job{ID: "race", State: quarantine.JobRunning}))
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.LeaseJob(ctx, "race", string(rune('a'+i)), until); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, won, "one owner")

	done := quarantine.JobDone
	require.NoError(t, s.UpdateJob(ctx, "j", quarantine.JobUpdate{State: &done}))
	_, err = s.LeaseJob(ctx, "j", "b", until)
	require.ErrorIs(t, err, quarantine.ErrConflict, "a finished job is never run again")
}

// auditSuite holds ExerciseAudit's subtests, one method each.
type auditSuite struct {
	newLog func(t *testing.T) audit.Log
}

// auditEvent is the i-th minute's event after base.
func auditEvent(i int, actor, action, target string) audit.Event {
	return audit.Event{At: base.Add(time.Duration(i) * time.Minute), Actor: actor, Action: action, Target: target}
}

// seed returns a fresh log holding eight events, ids ascending in this
// order, and the events.
func (a auditSuite) seed(t *testing.T) (audit.Log, []audit.Event) {
	t.Helper()
	ctx := context.Background()
	l := a.newLog(t)
	evs := []audit.Event{
		auditEvent(0, "alice", "quarantine.discard", "quarantine/a"),
		auditEvent(1, "bob", "quarantine.edit", "quarantine/b"),
		auditEvent(2, "alice", "reprocess.start", "job/1"),
		auditEvent(3, "system", "quarantine.reprocess", "quarantine/a"),
		auditEvent(4, "alice", "circuit.resume", "circuit/orders"),
		auditEvent(5, "bob", "quarantine.discard", "quarantine/ab"),
		auditEvent(6, "carol", "schema.register", "schema/s/1"),
		auditEvent(7, "alice", "quarantine.edit", "quarantinex/a"),
	}
	evs[1].Role, evs[1].Reason, evs[1].Details = "operator", "typo ✓", json.RawMessage(`{"size":3}`)
	require.NoError(t, l.Append(ctx, evs[:3]...))
	for _, e := range evs[3:] {
		require.NoError(t, l.Append(ctx, e))
	}
	return l, evs
}

// auditTargets lists a page's events as target@actor.
func auditTargets(p audit.Page) []string {
	out := []string{}
	for _, e := range p.Events {
		out = append(out, e.Target+"@"+e.Actor)
	}
	return out
}

// ExerciseAudit runs the audit.Log conformance suite. newLog returns an
// empty log private to the test.
func ExerciseAudit(t *testing.T, newLog func(t *testing.T) audit.Log) {
	t.Helper()
	a := auditSuite{newLog: newLog}
	t.Run("AppendAndList", a.appendAndList)
	t.Run("AppendSetsTime", a.appendSetsTime)
	t.Run("Filters", a.filters)
	t.Run("Paging", a.paging)
	t.Run("BadCursor", a.badCursor)
}

func (a auditSuite) appendAndList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, evs := a.seed(t)
	page, err := l.List(ctx, audit.Filter{})
	require.NoError(t, err)
	require.Len(t, page.Events, len(evs))
	require.Empty(t, page.NextCursor)
	for i, got := range page.Events {
		want := evs[len(evs)-1-i]
		require.Positive(t, got.ID)
		if i > 0 {
			require.Less(t, got.ID, page.Events[i-1].ID, "newest first")
		}
		want.ID = got.ID
		if want.Details != nil {
			require.JSONEq(t, string(want.Details), string(got.Details))
			want.Details = got.Details
		}
		require.Equal(t, want, got)
	}
	require.NoError(t, l.Append(ctx), "appending nothing")
}

func (a auditSuite) appendSetsTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := a.newLog(t)
	before := time.Now()
	require.NoError(t, l.Append(ctx, audit.Event{Actor: "x", Action: "a", Target: "t/1"}))
	page, err := l.List(ctx, audit.Filter{})
	require.NoError(t, err)
	require.Len(t, page.Events, 1)
	require.False(t, page.Events[0].At.Before(before.Add(-time.Second)))
	require.Equal(t, time.UTC, page.Events[0].At.Location())
}

func (a auditSuite) filters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, _ := a.seed(t)
	cases := []struct {
		name string
		f    audit.Filter
		want []string
	}{
		{"target exact", audit.Filter{Target: "quarantine/a"}, []string{"quarantine/a@system", "quarantine/a@alice"}},
		{"target prefix", audit.Filter{Target: "quarantine/"}, []string{"quarantine/ab@bob", "quarantine/a@system", "quarantine/b@bob", "quarantine/a@alice"}},
		{"target none", audit.Filter{Target: "quarantine"}, []string{}},
		{"action", audit.Filter{Action: "quarantine.edit"}, []string{"quarantinex/a@alice", "quarantine/b@bob"}},
		{"actor", audit.Filter{Actor: "bob"}, []string{"quarantine/ab@bob", "quarantine/b@bob"}},
		{"since until", audit.Filter{Since: base.Add(2 * time.Minute), Until: base.Add(4 * time.Minute)}, []string{"quarantine/a@system", "job/1@alice"}},
		{"combined", audit.Filter{Actor: "alice", Target: "quarantine/"}, []string{"quarantine/a@alice"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := l.List(ctx, tc.f)
			require.NoError(t, err)
			require.Equal(t, tc.want, auditTargets(page))
		})
	}
}

func (a auditSuite) paging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, evs := a.seed(t)
	var got []string
	f := audit.Filter{Limit: 3}
	pages := 0
	for {
		page, err := l.List(ctx, f)
		require.NoError(t, err)
		pages++
		got = append(got, auditTargets(page)...)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	require.Equal(t, 3, pages)
	require.Len(t, got, len(evs))
	all, err := l.List(ctx, audit.Filter{})
	require.NoError(t, err)
	require.Equal(t, auditTargets(all), got)

	page, err := l.List(ctx, audit.Filter{Limit: 2, Target: "quarantine/"})
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	page, err = l.List(ctx, audit.Filter{Limit: 2, Target: "quarantine/", Cursor: page.NextCursor})
	require.NoError(t, err)
	require.Equal(t, []string{"quarantine/b@bob", "quarantine/a@alice"}, auditTargets(page))
	require.Empty(t, page.NextCursor, "an exact fit has no next page")
}

func (a auditSuite) badCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := a.newLog(t)
	for _, c := range []string{"!", "AQ", "not-a-cursor", quarantine.EncodeCursor(1, "x")} {
		_, err := l.List(ctx, audit.Filter{Cursor: c})
		require.ErrorIs(t, err, audit.ErrBadCursor, "cursor %q", c)
	}
}
