package model_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"msgo/app/live/model"
	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// insertProbe counts INSERT statements on a database and can hold the
// first one until released, so that writes queue up behind it.
type insertProbe struct {
	statements atomic.Int64
	entered    chan struct{} // closed when the first INSERT starts
	release    chan struct{} // the first INSERT proceeds once this is closed
}

func probeInserts(t *testing.T, gdb *gorm.DB) *insertProbe {
	t.Helper()
	p := &insertProbe{entered: make(chan struct{}), release: make(chan struct{})}
	err := gdb.Callback().Create().Before("gorm:create").Register("test:probe", func(*gorm.DB) {
		if p.statements.Add(1) == 1 {
			close(p.entered)
			<-p.release
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-p.release:
		default:
			close(p.release)
		}
	})
	return p
}

// holdFirstInsert starts a write of seq 1000 that holds the writer's
// goroutine inside its INSERT until p.release is closed; its result arrives
// on the returned channel.
func holdFirstInsert(t *testing.T, w *model.Writer, p *insertProbe) <-chan error {
	first := make(chan error, 1)
	go func() { first <- w.Write(context.Background(), msg("a", 1000, "first")) }()
	select {
	case <-p.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("first insert did not start")
	}
	return first
}

// writeAll writes seqs concurrently and returns each one's error by seq.
func writeAll(w *model.Writer, seqs []int64) (wait func() map[int64]error) {
	var mu sync.Mutex
	errs := make(map[int64]error, len(seqs))
	var wg sync.WaitGroup
	for _, seq := range seqs {
		wg.Go(func() {
			err := w.Write(context.Background(), msg("a", seq, "m"))
			mu.Lock()
			errs[seq] = err
			mu.Unlock()
		})
	}
	return func() map[int64]error { wg.Wait(); return errs }
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestWriterGroupsConcurrentWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		p := probeInserts(t, gdb)
		w := model.NewWriter(s, 64, 0)
		defer w.Close()

		first := holdFirstInsert(t, w, p)
		wait := writeAll(w, seqRange(1, 200))
		time.Sleep(200 * time.Millisecond) // let the 200 writers queue up
		close(p.release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		for seq, err := range wait() {
			if err != nil {
				t.Errorf("seq %d: %v", seq, err)
			}
		}
		// 1 held INSERT, then 200 rows in batches of at most 64: 4 on
		// SQLite; on MySQL the other flushers start batches meanwhile, so
		// only ask for an average batch of 4 or more.
		if n := p.statements.Load(); n > 50 {
			t.Errorf("%d INSERT statements for 201 writes, want batches", n)
		}
		got, err := s.History(t.Context(), "a", 0, 1000)
		if err != nil || len(got) != 201 {
			t.Fatalf("stored %d rows, %v; want 201", len(got), err)
		}
	})
}

func TestWriterMaxDelayFillsBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		p := probeInserts(t, gdb)
		close(p.release)
		w := model.NewWriter(s, 50, 300*time.Millisecond)
		defer w.Close()
		for seq, err := range writeAll(w, seqRange(1, 50))() {
			if err != nil {
				t.Errorf("seq %d: %v", seq, err)
			}
		}
		if n := p.statements.Load(); n > 8 { // one batch per flusher, or a few more
			t.Errorf("%d INSERT statements for 50 writes within maxDelay", n)
		}
	})
}

// A row that cannot be stored fails alone; the rows batched with it are stored.
func TestWriterBadRowFailsAlone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		if err := s.Insert(t.Context(), msg("a", 5, "already there")); err != nil {
			t.Fatal(err)
		}
		p := probeInserts(t, gdb)
		w := model.NewWriter(s, 64, 0)
		defer w.Close()

		first := holdFirstInsert(t, w, p)
		wait := writeAll(w, seqRange(1, 10))
		time.Sleep(100 * time.Millisecond)
		close(p.release)
		<-first
		for seq, err := range wait() {
			switch {
			case seq == 5 && !errors.Is(err, gorm.ErrDuplicatedKey):
				t.Errorf("duplicate seq 5: %v, want gorm.ErrDuplicatedKey", err)
			case seq != 5 && err != nil:
				t.Errorf("seq %d failed with its batch: %v", seq, err)
			}
		}
		if got, _ := s.History(t.Context(), "a", 0, 100); len(got) != 11 {
			t.Errorf("stored %d rows, want 11", len(got))
		}
	})
}

func TestWriterDatabaseDown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		w := model.NewWriter(newStore(t, gdb), 0, 0)
		defer w.Close()
		db.Close(gdb)
		errs := writeAll(w, seqRange(1, 20))()
		for seq, err := range errs {
			if !errors.Is(err, db.ErrUnavailable) {
				t.Errorf("seq %d: %v, want db.ErrUnavailable", seq, err)
			}
		}
	})
}

// A write whose context ends while it is still queued returns and is not
// stored.
func TestWriterQueuedWriteGivesUpAtDeadline(t *testing.T) {
	gdb := dbtest.SQLite(t)
	s := newStore(t, gdb)
	p := probeInserts(t, gdb)
	w := model.NewWriter(s, 0, 0)
	defer w.Close()

	first := holdFirstInsert(t, w, p)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := w.Write(ctx, msg("a", 1, "late"))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, db.ErrUnavailable) {
		t.Errorf("queued write past its deadline: %v", err)
	}
	close(p.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got, _ := s.History(t.Context(), "a", 0, 10); len(got) != 1 || got[0].Seq != 1000 {
		t.Errorf("want only the first row stored, got %+v", got)
	}
}

func TestWriterClose(t *testing.T) {
	gdb := dbtest.SQLite(t)
	s := newStore(t, gdb)
	p := probeInserts(t, gdb)
	w := model.NewWriter(s, 0, 0)

	first := holdFirstInsert(t, w, p)
	queued := make(chan error, 1)
	go func() { queued <- w.Write(context.Background(), msg("a", 1, "queued")) }()
	time.Sleep(50 * time.Millisecond)
	closed := make(chan struct{})
	go func() { w.Close(); close(closed) }()

	if err := <-queued; !errors.Is(err, model.ErrWriterClosed) {
		t.Errorf("write queued at Close: %v, want ErrWriterClosed", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned before the batch in flight was committed")
	case <-time.After(50 * time.Millisecond):
	}
	close(p.release)
	if err := <-first; err != nil {
		t.Errorf("write in flight at Close: %v", err)
	}
	<-closed
	if err := w.Write(t.Context(), msg("a", 2, "after")); !errors.Is(err, model.ErrWriterClosed) {
		t.Errorf("write after Close: %v", err)
	}
	w.Close() // twice is fine
}

// WriteAll's rows are stored or fail together, even when batched with
// others and one of them is a duplicate.
func TestWriterWriteAllAllOrNone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		if err := s.Insert(t.Context(), msg("a", 5, "already there")); err != nil {
			t.Fatal(err)
		}
		p := probeInserts(t, gdb)
		w := model.NewWriter(s, 64, 0)
		defer w.Close()

		first := holdFirstInsert(t, w, p)
		good := []model.Message{msg("a", 1, "x"), msg("a", 2, "y"), msg("a", 3, "z")}
		good[0].Nickname = strings.Repeat("名", model.MaxNicknameLen+1)
		bad := []model.Message{msg("a", 4, "x"), msg("a", 5, "dup")}
		errs := make(chan error, 2)
		go func() { errs <- w.WriteAll(context.Background(), good...) }()
		go func() { errs <- w.WriteAll(context.Background(), bad...) }()
		time.Sleep(100 * time.Millisecond) // both queue behind the held INSERT
		close(p.release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		var failed int
		for range 2 {
			if err := <-errs; err != nil {
				if !errors.Is(err, gorm.ErrDuplicatedKey) {
					t.Errorf("WriteAll: %v, want gorm.ErrDuplicatedKey", err)
				}
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("%d WriteAll calls failed, want 1", failed)
		}
		got, _ := s.History(t.Context(), "a", 0, 100)
		if fmt.Sprint(seqs(got)) != "[1 2 3 5 1000]" {
			t.Errorf("stored seqs %v, want [1 2 3 5 1000]: the bad run stored nothing", seqs(got))
		}
		for _, m := range good {
			if m.ID == 0 {
				t.Errorf("seq %d: ID not written back", m.Seq)
			}
		}
		if n := []rune(good[0].Nickname); len(n) != model.MaxNicknameLen {
			t.Errorf("nickname not clipped as stored: %d characters", len(n))
		}
	})
}
